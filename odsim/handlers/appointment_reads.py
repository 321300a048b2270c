"""Appointments GET (single) and GET (multiple) (opendental-api.md §5.1)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from odsim.auth import requires
from odsim.catalog import enum_of
from odsim.config import Permission
from odsim.errors import not_found
from odsim.fields import FieldSpec, Kind, parse_date
from odsim.handlers.appointment_fields import appointment_fields
from odsim.handlers.common import (
    Where,
    fetch_row,
    ok,
    query_values,
    select_page,
    server_datetime,
    since_stamp,
)
from odsim.lookups import load_lookups
from odsim.render import render
from odsim.state import ctx_of, page_of, url_id

routes = web.RouteTableDef()

_EXACT = (
    FieldSpec(name="PatNum", kind=Kind.INT), FieldSpec(name="Op", kind=Kind.INT),
    FieldSpec(name="ClinicNum", kind=Kind.INT), FieldSpec(name="AppointmentTypeNum", kind=Kind.INT),
    FieldSpec(name="AptStatus", kind=Kind.ENUM, enum=enum_of("appointment", "AptStatus")),
)


def _date_range(query: dict[str, str], where: Where) -> None:
    # Whole days, inclusive, as a datetime range so the AptDateTime index is used.
    if query.get("date"):
        start = end = parse_date("date", query["date"])
    elif query.get("dateStart") and query.get("dateEnd"):
        start = parse_date("dateStart", query["dateStart"])
        end = parse_date("dateEnd", query["dateEnd"])
    else:
        return
    where.add("AptDateTime >= %s AND AptDateTime < %s", start, end + timedelta(days=1))


@routes.get("/api/v1/appointments/{AptNum:\\d+}")
@requires(Permission.READ_ALL)
async def get_appointment(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    async with ctx.pools.read(ctx.database) as cur:
        row = await fetch_row(cur, "appointment", url_id(request, "AptNum"))
        if row is None:
            raise not_found("Appointment not found.")
        lookups = await load_lookups(cur)
    return ok({"serverDateTime": server_datetime(),
               **render("appointment", row, appointment_fields(lookups))})


@routes.get("/api/v1/appointments")
@requires(Permission.READ_ALL)
async def get_appointments(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    query = dict(request.query)
    where = Where()
    for column, value in query_values(query, _EXACT).items():
        where.add(f"`{column}` = %s", value)
    _date_range(query, where)
    stamp = since_stamp(query)
    if stamp is not None:
        where.add("DateTStamp >= %s", stamp)
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        rows = await select_page(cur, "appointment", where, page, order="AptNum")
        lookups = await load_lookups(cur)
    now = server_datetime()
    fields = appointment_fields(lookups)
    return ok([{"serverDateTime": now, **render("appointment", row, fields)} for row in rows])
