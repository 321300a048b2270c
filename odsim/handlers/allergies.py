"""Allergies POST [AllOthers] and GET (opendental-api.md §4.6): ``defDescription`` names the
allergy (an allergydef is added when the office has none by that name) or ``AllergyDefNum``
does; optional Reaction, StatusIsActive (default true) and DateAdverseReaction."""

from __future__ import annotations

from aiohttp import web

from odsim.auth import requires
from odsim.config import Permission
from odsim.errors import required
from odsim.fields import FieldSpec, Kind, parse_fields
from odsim.handlers.clinical_lists import (
    ListItem,
    MissingName,
    PatientList,
    add_to_list,
    list_rows,
)
from odsim.handlers.common import created, ok
from odsim.state import ctx_of, json_body, page_of

routes = web.RouteTableDef()

FIELDS = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="defDescription", max_length=255),
    FieldSpec(name="AllergyDefNum", kind=Kind.INT),
    FieldSpec(name="Reaction", max_length=255),
    FieldSpec(name="StatusIsActive", kind=Kind.BOOL),
    FieldSpec(name="DateAdverseReaction", kind=Kind.DATE),
)
ALLERGIES = PatientList(
    table="allergy", resource="allergies",
    item=ListItem(table="allergydef", key="AllergyDefNum", name_column="Description",
                  name_field="defDescription", missing=MissingName.CREATE, extra={}),
    perm="PatAllergyListEdit", what="Allergy added", defaults={"StatusIsActive": 1},
    out=("AllergyNum", "AllergyDefNum", "PatNum", "Reaction", "StatusIsActive",
         "DateTStamp", "DateAdverseReaction"),
)


@routes.post("/api/v1/allergies")
@requires(Permission.ALL_OTHERS)
async def post_allergy(request: web.Request) -> web.StreamResponse:
    values = parse_fields(await json_body(request), FIELDS)
    num, reply = await add_to_list(ctx_of(request), ALLERGIES, values)
    return created(request, ALLERGIES.resource, num, reply)


@routes.get("/api/v1/allergies")
@requires(Permission.READ_ALL)
async def get_allergies(request: web.Request) -> web.StreamResponse:
    if "PatNum" not in request.query:
        raise required("PatNum")
    ctx = ctx_of(request)
    return ok(await list_rows(ctx, ALLERGIES, request.query["PatNum"], page_of(request, ctx)))
