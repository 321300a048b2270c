"""PatFields POST, PUT and GET [AllOthers] (opendental-api.md §4.1): a patient's custom fields.

A field's name must be one of the office's non-hidden patfielddefs, matched exactly (case
counts), and its value must fit the definition's type: a PickList item's name, a Date as
yyyy-MM-dd, a Checkbox as "1", a Currency as a number. POST makes the patient's row for the
field; PUT takes the same body and changes the row the patient has for it.

UNCONFIRMED (opendental-api.md §10 lists neither): what POST answers when the patient already
has the field, and what PUT answers when the patient has none. The simulator refuses both with
400 (``DUPLICATE_MESSAGE``, ``MISSING_MESSAGE``), the stricter reading: the hub's client reads
the patient's fields first and sends the one that fits, so either answer works with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import aiomysql
from aiohttp import web

from odsim.audit import log_api_write
from odsim.auth import requires
from odsim.config import Permission
from odsim.errors import bad_request, invalid, not_found, required
from odsim.fields import FieldSpec, Kind, int_of, office_now, parse_fields
from odsim.handlers.common import (
    Row,
    Where,
    created,
    fetch_row,
    insert_row,
    ok,
    select_page,
    update_row,
)
from odsim.handlers.patient_rules import known_patient, live_patient
from odsim.render import JsonObject, render
from odsim.state import Ctx, ctx_of, json_body, page_of

routes = web.RouteTableDef()

FIELDS = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="FieldName", max_length=255),
    FieldSpec(name="FieldValue", max_length=65535),
)
PATFIELD_OUT = ("PatFieldNum", "PatNum", "FieldName", "FieldValue", "SecDateEntry", "SecDateTEdit")
DUPLICATE_MESSAGE = "A PatField with this FieldName already exists for this patient."
MISSING_MESSAGE = "PatField not found for this patient and FieldName."
UNKNOWN_FIELD_MESSAGE = "FieldName does not match a PatFieldDef."
# patfielddef.FieldType (PatFieldType): Text 0, PickList 1, Date 2, Checkbox 3, Currency 4.
_PICK_LIST, _DATE, _CHECKBOX, _CURRENCY = 1, 2, 3, 4
_DATE_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY_VALUE = re.compile(r"^-?\d+(\.\d{1,2})?$")


def _sent(body: Mapping[str, object]) -> tuple[int, str, str]:
    values = parse_fields(body, FIELDS)
    for name in ("PatNum", "FieldName", "FieldValue"):
        if name not in values:
            raise required(name)
    return int_of(values, "PatNum"), str(values["FieldName"]), str(values["FieldValue"])


async def _check_value(cur: aiomysql.DictCursor, name: str, value: str) -> None:
    """400 unless ``name`` is a non-hidden definition (exactly) and ``value`` fits its type."""
    await cur.execute(
        "SELECT FieldType, PickList FROM patfielddef WHERE CAST(FieldName AS BINARY) ="
        " CAST(%s AS BINARY) AND IsHidden = 0", (name,),
    )
    definition: Row | None = await cur.fetchone()
    if definition is None:
        raise bad_request(UNKNOWN_FIELD_MESSAGE)
    kind = int(definition["FieldType"])
    if kind == _PICK_LIST and value not in str(definition["PickList"]).split("\r\n"):
        raise invalid("FieldValue", "Must be an item of the field's pick list.")
    if kind == _DATE and not _DATE_VALUE.match(value):
        raise invalid("FieldValue", "Date format must be yyyy-MM-dd.")
    if kind == _CHECKBOX and value != "1":
        raise invalid("FieldValue", 'A checkbox field takes "1".')
    if kind == _CURRENCY and not _CURRENCY_VALUE.match(value):
        raise invalid("FieldValue", "Must be an amount.")


async def _existing(cur: aiomysql.DictCursor, pat_num: int, name: str) -> Row | None:
    await cur.execute(
        "SELECT * FROM patfield WHERE PatNum = %s AND CAST(FieldName AS BINARY) ="
        " CAST(%s AS BINARY) ORDER BY PatFieldNum LIMIT 1 FOR UPDATE", (pat_num, name),
    )
    row: Row | None = await cur.fetchone()
    return row


async def _write(
    ctx: Ctx, body: Mapping[str, object], *, creating: bool
) -> tuple[int, JsonObject]:
    pat_num, name, value = _sent(body)
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        await live_patient(cur, pat_num, for_update=True)  # one field set at a time a patient
        await _check_value(cur, name, value)
        existing = await _existing(cur, pat_num, name)
        if creating:
            if existing is not None:
                raise bad_request(DUPLICATE_MESSAGE)
            num = await insert_row(cur, "patfield", {
                "PatNum": pat_num, "FieldName": name, "FieldValue": value,
                "SecDateEntry": now.date(),
            })
        else:
            if existing is None:
                raise bad_request(MISSING_MESSAGE)
            num = int(existing["PatFieldNum"])
            await update_row(cur, "patfield", num, {"FieldValue": value})
        what = "Patient field created" if creating else "Patient field edited"
        await log_api_write(cur, ctx.caller, perm="PatientFieldEdit", what=what,
                            pat_num=pat_num, fkey=num)
        row = await fetch_row(cur, "patfield", num)
    assert row is not None
    return num, render("patfield", row, PATFIELD_OUT)


@routes.post("/api/v1/patfields")
@requires(Permission.ALL_OTHERS)
async def post_patfield(request: web.Request) -> web.StreamResponse:
    num, reply = await _write(ctx_of(request), await json_body(request), creating=True)
    return created(request, "patfields", num, reply)


@routes.put("/api/v1/patfields")
@requires(Permission.ALL_OTHERS)
async def put_patfield(request: web.Request) -> web.StreamResponse:
    _, reply = await _write(ctx_of(request), await json_body(request), creating=False)
    return ok(reply)


@routes.get("/api/v1/patfields/{PatFieldNum:\\d+}")
@requires(Permission.READ_ALL)
async def get_patfield(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    async with ctx.pools.read(ctx.database) as cur:
        row = await fetch_row(cur, "patfield", int(request.match_info["PatFieldNum"]))
    if row is None:
        raise not_found("PatField not found.")
    return ok(render("patfield", row, PATFIELD_OUT))


@routes.get("/api/v1/patfields")
@requires(Permission.READ_ALL)
async def get_patfields(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    where = Where()
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        if "PatNum" in request.query:
            values = parse_fields({"PatNum": request.query["PatNum"]}, FIELDS[:1])
            await known_patient(cur, int_of(values, "PatNum"))
            where.add("PatNum = %s", values["PatNum"])
        rows = await select_page(cur, "patfield", where, page, order="PatFieldNum")
    return ok([render("patfield", row, PATFIELD_OUT) for row in rows])
