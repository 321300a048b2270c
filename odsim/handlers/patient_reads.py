"""Patients GET (single), GET Simple and GET (multiple, the Patient Select search)."""

from __future__ import annotations

import re

from aiohttp import web

from odsim.auth import requires
from odsim.catalog import enum_of
from odsim.config import Permission
from odsim.fields import FieldSpec, Kind, parse_bool, parse_date
from odsim.handlers.common import (
    Where,
    ok,
    query_values,
    select_page,
    server_datetime,
    since_stamp,
)
from odsim.handlers.patient_fields import DELETED_STATUS, full_fields, select_fields
from odsim.handlers.patient_rules import known_patient
from odsim.lookups import load_lookups
from odsim.render import render
from odsim.state import ctx_of, page_of, url_id

routes = web.RouteTableDef()
_STATUS = enum_of("patient", "PatStatus")

_SIMPLE_EXACT = (
    FieldSpec(name="ClinicNum", kind=Kind.INT), FieldSpec(name="PriProv", kind=Kind.INT),
    FieldSpec(name="Guarantor", kind=Kind.INT), FieldSpec(name="SuperFamily", kind=Kind.INT),
    FieldSpec(name="EmployerNum", kind=Kind.INT), FieldSpec(name="FeeSched", kind=Kind.INT),
    FieldSpec(name="Birthdate", kind=Kind.DATE),
    FieldSpec(name="PatStatus", kind=Kind.ENUM, enum=_STATUS),
    FieldSpec(name="Gender", kind=Kind.ENUM, enum=enum_of("patient", "Gender")),
    FieldSpec(name="Position", kind=Kind.ENUM, enum=enum_of("patient", "Position")),
)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@routes.get("/api/v1/patients/{PatNum:\\d+}")
@requires(Permission.READ_ALL)
async def get_patient(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    async with ctx.pools.read(ctx.database) as cur:
        row = await known_patient(cur, url_id(request, "PatNum"))
        lookups = await load_lookups(cur)
    return ok(render("patient", row, full_fields(lookups)))


@routes.get("/api/v1/patients/Simple")
@requires(Permission.READ_ALL)
async def get_patients_simple(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    query = dict(request.query)
    where = Where()
    where.add("PatStatus != %s", DELETED_STATUS)
    for name in ("LName", "FName"):
        if query.get(name):
            where.add(f"{name} LIKE %s", f"%{_like(query[name])}%")
    for column, value in query_values(query, _SIMPLE_EXACT).items():
        where.add(f"`{column}` = %s", value)
    stamp = since_stamp(query)
    if stamp is not None:
        where.add("DateTStamp >= %s", stamp)
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        rows = await select_page(cur, "patient", where, page, order="PatNum")
        lookups = await load_lookups(cur)
    now = server_datetime()
    fields = full_fields(lookups)
    return ok([{"serverDateTime": now, **render("patient", row, fields)} for row in rows])


_SELECT_PREFIX = ("LName", "FName")
_SELECT_CONTAINS = ("Address", "City", "State", "SSN", "ChartNumber", "Email")


def _select_where(query: dict[str, str]) -> Where:
    where = Where()
    where.add("PatStatus != %s", DELETED_STATUS)
    for name in _SELECT_PREFIX:
        if query.get(name):
            where.add(f"{name} LIKE %s", f"{_like(query[name])}%")
    for name in _SELECT_CONTAINS:
        if query.get(name):
            where.add(f"{name} LIKE %s", f"%{_like(query[name])}%")
    digits = re.sub(r"\D", "", query.get("Phone", ""))
    if digits:
        phones = " OR ".join(
            f"REGEXP_REPLACE({c}, '[^0-9]', '') LIKE %s"
            for c in ("HmPhone", "WkPhone", "WirelessPhone")
        )
        where.add(f"({phones})", *([f"%{digits}%"] * 3))
    if query.get("Birthdate"):
        where.add("Birthdate = %s", parse_date("Birthdate", query["Birthdate"]))
    return where


def _select_flags(query: dict[str, str], where: Where) -> None:
    if query.get("hideInactive") and parse_bool("hideInactive", query["hideInactive"]):
        where.add("PatStatus != %s", _STATUS["Inactive"])
    if not (query.get("showArchived") and parse_bool("showArchived", query["showArchived"])):
        where.add("PatStatus != %s", _STATUS["Archived"])
    if query.get("guarOnly") and parse_bool("guarOnly", query["guarOnly"]):
        where.add("PatNum = Guarantor")


@routes.get("/api/v1/patients")
@requires(Permission.READ_ALL)
async def get_patients(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    query = dict(request.query)
    where = _select_where(query)
    _select_flags(query, where)
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        rows = await select_page(cur, "patient", where, page, order="PatNum")
        lookups = await load_lookups(cur)
    fields = select_fields(lookups)
    return ok([render("patient", row, fields) for row in rows])
