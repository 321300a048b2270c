"""Sheets POST, SheetFields GET and SheetFields PUT [AllOthers, ReadAll] (opendental-api.md §4.7).

Filling a form is several calls, none idempotent: Sheets POST makes the sheet and a copy of
every field of its definition (the body carries no values); SheetFields GET lists the new
sheet's fields with their SheetFieldNums; one SheetFields PUT sets each field's FieldValue.
Open Dental's exact error wording for these methods is UNCONFIRMED: the messages follow its
usual forms ("X is required.", "X is invalid.", "... not found.") and are documented in
docs/simulator.md.
"""

from __future__ import annotations

import aiomysql
from aiohttp import web

from odsim.audit import log_api_write
from odsim.auth import requires
from odsim.catalog import enum_of, table
from odsim.config import Permission
from odsim.errors import bad_request, not_found, required
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
from odsim.state import ctx_of, json_body, page_of, url_id

routes = web.RouteTableDef()
_SHEET_TYPES = enum_of("sheet", "SheetType")
_FIELD_TYPES = enum_of("sheetfield", "FieldType")
# The sheet types Sheets POST makes (opendental-api.md §4.7).
POSTABLE_TYPES = frozenset(
    _SHEET_TYPES[name]
    for name in ("Consent", "PatientLetter", "PatientForm", "MedicalHistory", "ExamSheet")
)
# The field types SheetFields PUT sets (opendental-api.md §4.7).
SETTABLE_TYPES = frozenset(_FIELD_TYPES[name] for name in ("OutputText", "InputField", "CheckBox"))
CHECKBOX_VALUES = frozenset({"X", ""})

SHEET_TYPE_MESSAGE = (
    "SheetDef must be of type Consent, PatientLetter, PatientForm, MedicalHistory, or ExamSheet."
)
FIELD_TYPE_MESSAGE = "Only SheetFields of type OutputText, InputField, or CheckBox can be updated."
CHECKBOX_MESSAGE = "FieldValue for a CheckBox must be \"X\" or blank."

POST_FIELDS = (
    FieldSpec(name="SheetDefNum", kind=Kind.INT),
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="InternalNote", max_length=65535),
)
PUT_FIELDS = (FieldSpec(name="FieldValue", max_length=65535),)
_SHEET_OUT = ("SheetNum", "SheetType", "PatNum", "DateTimeSheet", "InternalNote", "Description",
              "ShowInTerminal", "IsWebForm", "IsMultiPage", "IsDeleted", "SheetDefNum",
              "DocNum", "ClinicNum", "DateTSheetEdited")
_FIELD_OUT = ("SheetFieldNum", "SheetNum", "FieldType", "FieldName", "FieldValue", "IsRequired",
              "TabOrder", "ReportableName", "IsLocked", "SheetFieldDefNum")
# The columns a sheet and its fields copy from their definitions.
_COPIED_SHEET = ("SheetType", "FontSize", "FontName", "Width", "Height", "IsLandscape",
                 "Description", "IsMultiPage", "HasMobileLayout", "RevID")


def _copied_field_columns() -> tuple[str, ...]:
    field_columns = set(table("sheetfield").column_names)
    skip = {"SheetFieldDefNum", "SheetDefNum"}
    return tuple(
        c for c in table("sheetfielddef").column_names if c in field_columns and c not in skip
    )


async def _sheet_def(cur: aiomysql.DictCursor, def_num: int) -> Row:
    row = await fetch_row(cur, "sheetdef", def_num)
    if row is None:
        raise bad_request("SheetDefNum is invalid.")
    if row["SheetType"] not in POSTABLE_TYPES:
        raise bad_request(SHEET_TYPE_MESSAGE)
    return row


@routes.post("/api/v1/sheets")
@requires(Permission.ALL_OTHERS)
async def post_sheet(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    values = parse_fields(await json_body(request), POST_FIELDS)
    for name in ("SheetDefNum", "PatNum"):
        if name not in values:
            raise required(name)
    pat_num = int_of(values, "PatNum")
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        await live_patient(cur, pat_num)
        sheet_def = await _sheet_def(cur, int_of(values, "SheetDefNum"))
        sheet = {
            **{c: sheet_def[c] for c in _COPIED_SHEET},
            "PatNum": pat_num, "DateTimeSheet": now, "SheetDefNum": sheet_def["SheetDefNum"],
            "InternalNote": values.get("InternalNote", ""),
        }
        num = await insert_row(cur, "sheet", sheet)
        copied = _copied_field_columns()
        await cur.execute(
            f"INSERT INTO sheetfield (SheetNum, SheetFieldDefNum, {', '.join(copied)})"
            f" SELECT %s, SheetFieldDefNum, {', '.join(copied)} FROM sheetfielddef"
            " WHERE SheetDefNum = %s ORDER BY SheetFieldDefNum",
            (num, sheet_def["SheetDefNum"]),
        )
        await log_api_write(cur, ctx.caller, perm="SheetEdit", what="Sheet created",
                            pat_num=pat_num, fkey=num)
        row = await fetch_row(cur, "sheet", num)
    assert row is not None
    return created(request, "sheets", num, render("sheet", row, _SHEET_OUT))


@routes.get("/api/v1/sheets/{SheetNum:\\d+}")
@requires(Permission.READ_ALL)
async def get_sheet(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    async with ctx.pools.read(ctx.database) as cur:
        row = await fetch_row(cur, "sheet", url_id(request, "SheetNum"))
    if row is None:
        raise not_found("Sheet not found.")
    return ok(render("sheet", row, _SHEET_OUT))


@routes.get("/api/v1/sheetfields")
@requires(Permission.READ_ALL)
async def get_sheet_fields(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    given = request.query.get("SheetNum")
    if not given:
        raise required("SheetNum")
    sheet_num = int_of(parse_fields({"SheetNum": given}, (FieldSpec(name="SheetNum",
                                                                    kind=Kind.INT),)),
                       "SheetNum")
    async with ctx.pools.read(ctx.database) as cur:
        if await fetch_row(cur, "sheet", sheet_num) is None:
            raise not_found("Sheet not found.")
        where = Where()
        where.add("SheetNum = %s", sheet_num)
        rows = await select_page(cur, "sheetfield", where, page_of(request, ctx),
                                 order="SheetFieldNum")
    return ok([render("sheetfield", row, _FIELD_OUT) for row in rows])


def _field_value(field: Row, values: dict[str, object]) -> str:
    if "FieldValue" not in values:
        raise required("FieldValue")
    if field["FieldType"] not in SETTABLE_TYPES:
        raise bad_request(FIELD_TYPE_MESSAGE)
    value = str(values["FieldValue"])
    if field["FieldType"] == _FIELD_TYPES["CheckBox"] and value not in CHECKBOX_VALUES:
        raise bad_request(CHECKBOX_MESSAGE)
    return value


@routes.put("/api/v1/sheetfields/{SheetFieldNum:\\d+}")
@requires(Permission.ALL_OTHERS)
async def put_sheet_field(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    values = parse_fields(await json_body(request), PUT_FIELDS)
    field_num = url_id(request, "SheetFieldNum")
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        field = await fetch_row(cur, "sheetfield", field_num, for_update=True)
        if field is None:
            raise not_found("SheetField not found.")
        value = _field_value(field, values)
        sheet = await fetch_row(cur, "sheet", field["SheetNum"], for_update=True)
        assert sheet is not None
        await known_patient(cur, sheet["PatNum"])
        await update_row(cur, "sheetfield", field_num, {"FieldValue": value})
        await update_row(cur, "sheet", sheet["SheetNum"], {"DateTSheetEdited": now})
        await log_api_write(cur, ctx.caller, perm="SheetEdit", what="SheetField updated",
                            pat_num=sheet["PatNum"], fkey=field_num)
        row = await fetch_row(cur, "sheetfield", field_num)
    assert row is not None
    reply: JsonObject = render("sheetfield", row, _FIELD_OUT)
    return ok(reply)
