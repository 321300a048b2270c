"""Diseases (problems) POST [AllOthers] and GET (opendental-api.md §4.6): ``diseaseDefName``
names the problem or ``DiseaseDefNum`` does; optional ProbStatus (Active, Resolved, Inactive;
default Active), DateStart, DateStop and PatNote.

Whether a ``diseaseDefName`` the office lacks is added, as Allergies add theirs, is UNCONFIRMED:
the reference says so of allergies and medications only, so the simulator refuses it (400).
"""

from __future__ import annotations

from aiohttp import web

from odsim.auth import requires
from odsim.catalog import enum_of
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
    FieldSpec(name="diseaseDefName", max_length=255),
    FieldSpec(name="DiseaseDefNum", kind=Kind.INT),
    FieldSpec(name="PatNote", max_length=65535),
    FieldSpec(name="ProbStatus", kind=Kind.ENUM, enum=enum_of("disease", "ProbStatus")),
    FieldSpec(name="DateStart", kind=Kind.DATE),
    FieldSpec(name="DateStop", kind=Kind.DATE),
)
DISEASES = PatientList(
    table="disease", resource="diseases",
    item=ListItem(table="diseasedef", key="DiseaseDefNum", name_column="DiseaseName",
                  name_field="diseaseDefName", missing=MissingName.REFUSE, extra={}),
    perm="PatProblemListEdit", what="Problem added", defaults={},
    out=("DiseaseNum", "PatNum", "DiseaseDefNum", "PatNote", "DateTStamp", "ProbStatus",
         "DateStart", "DateStop"),
)


@routes.post("/api/v1/diseases")
@requires(Permission.ALL_OTHERS)
async def post_disease(request: web.Request) -> web.StreamResponse:
    values = parse_fields(await json_body(request), FIELDS)
    num, reply = await add_to_list(ctx_of(request), DISEASES, values)
    return created(request, DISEASES.resource, num, reply)


@routes.get("/api/v1/diseases")
@requires(Permission.READ_ALL)
async def get_diseases(request: web.Request) -> web.StreamResponse:
    if "PatNum" not in request.query:
        raise required("PatNum")
    ctx = ctx_of(request)
    return ok(await list_rows(ctx, DISEASES, request.query["PatNum"], page_of(request, ctx)))
