"""MedicationPats POST [AllOthers] and GET (opendental-api.md §4.6): ``medName`` names the
medication (matched to the office's, or added as a generic) or ``MedicationNum`` does; optional
PatNote, DateStart, DateStop and ProvNum."""

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
    FieldSpec(name="medName", max_length=255),
    FieldSpec(name="MedicationNum", kind=Kind.INT),
    FieldSpec(name="PatNote", max_length=65535),
    FieldSpec(name="DateStart", kind=Kind.DATE),
    FieldSpec(name="DateStop", kind=Kind.DATE),
    FieldSpec(name="ProvNum", kind=Kind.INT),
)
MEDICATION_PATS = PatientList(
    table="medicationpat", resource="medicationpats",
    # A medication added by name is a generic: GenericNum 0 here, its own number in Open Dental,
    # which nothing the API or the hub reads depends on.
    item=ListItem(table="medication", key="MedicationNum", name_column="MedName",
                  name_field="medName", missing=MissingName.CREATE, extra={}),
    perm="PatMedicationListEdit", what="Medication added", defaults={},
    out=("MedicationPatNum", "PatNum", "MedicationNum", "PatNote", "DateTStamp", "DateStart",
         "DateStop", "ProvNum"),
)


@routes.post("/api/v1/medicationpats")
@requires(Permission.ALL_OTHERS)
async def post_medication_pat(request: web.Request) -> web.StreamResponse:
    values = parse_fields(await json_body(request), FIELDS)
    num, reply = await add_to_list(ctx_of(request), MEDICATION_PATS, values)
    return created(request, MEDICATION_PATS.resource, num, reply)


@routes.get("/api/v1/medicationpats")
@requires(Permission.READ_ALL)
async def get_medication_pats(request: web.Request) -> web.StreamResponse:
    if "PatNum" not in request.query:
        raise required("PatNum")
    ctx = ctx_of(request)
    return ok(await list_rows(ctx, MEDICATION_PATS, request.query["PatNum"],
                              page_of(request, ctx)))
