"""Commlogs POST [Comm] and GET (opendental-api.md §4.3, §5.1)."""

from __future__ import annotations

from aiohttp import web

from odsim.audit import log_api_write
from odsim.auth import requires
from odsim.catalog import enum_of
from odsim.config import Permission
from odsim.errors import invalid, not_found, required
from odsim.fields import FieldSpec, Kind, int_of, office_now, parse_fields
from odsim.handlers.common import (
    Where,
    created,
    fetch_row,
    insert_row,
    ok,
    query_values,
    select_page,
    since_stamp,
)
from odsim.handlers.patient_rules import known_patient, live_patient
from odsim.lookups import COMMLOG_TYPES, Lookups, load_lookups
from odsim.render import JsonObject, OutField, render
from odsim.state import Ctx, ctx_of, json_body, page_of

routes = web.RouteTableDef()
_MODES = dict(enum_of("commlog", "Mode_"))
# The API page spells three modes with spaces; which spelling it takes is UNCONFIRMED: take both.
_MODES.update({"In Person": _MODES["InPerson"], "Email and Text": _MODES["EmailAndText"],
               "Phone and Text": _MODES["PhoneAndText"]})
_MODES.pop("Fax")
_SOURCES = enum_of("commlog", "CommSource")

CREATE_FIELDS = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="Note", max_length=65535),
    FieldSpec(name="CommDateTime", kind=Kind.DATETIME),
    FieldSpec(name="CommType", kind=Kind.INT),
    FieldSpec(name="commType", max_length=255, column="commTypeName"),
    FieldSpec(name="Mode_", kind=Kind.ENUM, enum=_MODES),
    FieldSpec(name="SentOrReceived", kind=Kind.ENUM, enum=enum_of("commlog", "SentOrReceived")),
)
_OUT = ("CommlogNum", "PatNum", "CommDateTime", "CommType", "commType", "Note", "Mode_",
        "SentOrReceived", "UserNum", "DateTStamp", "CommSource", "ProgramNum", "DateTEntry",
        "ReferralNum")


def commlog_fields(lookups: Lookups) -> tuple[OutField, ...]:
    derived: OutField = ("commType", lambda r: lookups.def_name(r["CommType"]))
    return tuple(derived if name == "commType" else name for name in _OUT)


def _comm_type(values: dict[str, object], lookups: Lookups) -> int:
    """commType (an ItemName) wins over CommType (a DefNum); default the first type."""
    if "commTypeName" in values:
        def_num = lookups.def_named(COMMLOG_TYPES, str(values.pop("commTypeName")))
        values.pop("CommType", None)
        if def_num is None:
            raise invalid("commType")
        return def_num
    if "CommType" in values:
        return lookups.check_def("CommType", int_of(values, "CommType"), COMMLOG_TYPES)
    return lookups.first_def(COMMLOG_TYPES)


async def _create(ctx: Ctx, values: dict[str, object]) -> tuple[int, JsonObject]:
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        await live_patient(cur, int_of(values, "PatNum"))
        lookups = await load_lookups(cur)
        values["CommType"] = _comm_type(values, lookups)
        row_values = {
            "CommDateTime": now, "Mode_": _MODES["Phone"],
            "SentOrReceived": enum_of("commlog", "SentOrReceived")["Sent"],
            "CommSource": _SOURCES[ctx.config.commlog_source], "DateTEntry": now, **values,
        }
        num = await insert_row(cur, "commlog", row_values)
        await log_api_write(cur, ctx.caller, perm="CommlogCreate", what="Commlog created",
                            pat_num=int_of(values, "PatNum"), fkey=num)
        row = await fetch_row(cur, "commlog", num)
    assert row is not None
    return num, render("commlog", row, commlog_fields(lookups))


@routes.post("/api/v1/commlogs")
@requires(Permission.COMM)
async def post_commlog(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    values = parse_fields(await json_body(request), CREATE_FIELDS)
    if "PatNum" not in values:
        raise required("PatNum")
    if not str(values.get("Note", "")).strip():
        raise required("Note")
    num, body = await _create(ctx, values)
    return created(request, "commlogs", num, body)


_FILTERS = (FieldSpec(name="PatNum", kind=Kind.INT),)


@routes.get("/api/v1/commlogs/{CommlogNum:\\d+}")
@requires(Permission.READ_ALL)
async def get_commlog(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    async with ctx.pools.read(ctx.database) as cur:
        row = await fetch_row(cur, "commlog", int(request.match_info["CommlogNum"]))
        if row is None:
            raise not_found("Commlog not found.")
        lookups = await load_lookups(cur)
    return ok(render("commlog", row, commlog_fields(lookups)))


@routes.get("/api/v1/commlogs")
@requires(Permission.READ_ALL)
async def get_commlogs(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    query = dict(request.query)
    where = Where()
    filters = query_values(query, _FILTERS)
    stamp = since_stamp(query)
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        if "PatNum" in filters:
            await known_patient(cur, int_of(filters, "PatNum"))
            where.add("PatNum = %s", filters["PatNum"])
        if stamp is not None:
            where.add("DateTStamp >= %s", stamp)
        rows = await select_page(cur, "commlog", where, page, order="CommlogNum")
        lookups = await load_lookups(cur)
    fields = commlog_fields(lookups)
    return ok([render("commlog", row, fields) for row in rows])
