"""Appointments POST and PUT (opendental-api.md §4.2)."""

from __future__ import annotations

from datetime import datetime

import aiomysql
from aiohttp import web

from odsim.audit import log_api_write, log_appointment_history
from odsim.auth import requires
from odsim.config import Permission
from odsim.errors import not_found, required
from odsim.fields import int_of, office_now, parse_fields
from odsim.handlers.appointment_fields import (
    CREATE_FIELDS,
    DEFAULT_PATTERN,
    SCHEDULED,
    UPDATE_FIELDS,
    appointment_fields,
)
from odsim.handlers.appointment_rules import normalize
from odsim.handlers.common import Row, created, fetch_row, insert_row, ok, update_row
from odsim.handlers.patient_rules import live_patient
from odsim.lookups import APPT_CONFIRMED, Lookups, load_lookups
from odsim.render import JsonObject, render
from odsim.security_hash import rehash
from odsim.state import Ctx, ctx_of, json_body, url_id

routes = web.RouteTableDef()


def _defaults(values: dict[str, object], patient: Row, lookups: Lookups,
              now: datetime) -> dict[str, object]:
    op_clinic = lookups.operatories[int_of(values, "Op")].group
    return {
        "AptStatus": SCHEDULED,
        "Pattern": DEFAULT_PATTERN,
        "PatternSecondary": "/" * len(DEFAULT_PATTERN),
        "Confirmed": lookups.first_def(APPT_CONFIRMED),
        "ProvNum": patient["PriProv"] or lookups.default_provider(),
        "ClinicNum": op_clinic or patient["ClinicNum"],
        "SecDateTEntry": now,
        **values,
    }


async def _mark_first_visit(cur: aiomysql.Cursor, values: dict[str, object]) -> None:
    # A new patient's first visit is this appointment (the office has no completed procedures).
    if values.get("IsNewPatient"):
        apt_datetime = values["AptDateTime"]
        assert isinstance(apt_datetime, datetime)
        await cur.execute(
            "UPDATE patient SET DateFirstVisit = %s WHERE PatNum = %s",
            (apt_datetime.date(), values["PatNum"]),
        )


async def _create(ctx: Ctx, values: dict[str, object]) -> tuple[int, JsonObject]:
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        patient = await live_patient(cur, int_of(values, "PatNum"))
        lookups = await load_lookups(cur)
        normalize(values, lookups)
        apt_num = await insert_row(cur, "appointment", _defaults(values, patient, lookups, now))
        await rehash(cur, ctx.hash_secret, "appointment", apt_num)
        await _mark_first_visit(cur, values)
        await log_appointment_history(cur, apt_num, action="Created", now=now)
        await log_api_write(cur, ctx.caller, perm="AppointmentCreate", what="Appointment created",
                            pat_num=int(patient["PatNum"]), fkey=apt_num)
        row = await fetch_row(cur, "appointment", apt_num)
    assert row is not None
    return apt_num, render("appointment", row, appointment_fields(lookups))


@routes.post("/api/v1/appointments")
@requires(Permission.APPOINTMENTS)
async def post_appointment(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    values = parse_fields(await json_body(request), CREATE_FIELDS)
    for field in ("PatNum", "Op", "AptDateTime"):
        if field not in values:
            raise required(field)
    apt_num, body = await _create(ctx, values)
    return created(request, "appointments", apt_num, body)


async def _update(ctx: Ctx, apt_num: int, values: dict[str, object]) -> JsonObject:
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        row = await fetch_row(cur, "appointment", apt_num, for_update=True)
        if row is None:
            raise not_found("Appointment not found.")
        await live_patient(cur, int(row["PatNum"]))
        lookups = await load_lookups(cur)
        normalize(values, lookups, row)
        if values:
            await update_row(cur, "appointment", apt_num, values)
            await rehash(cur, ctx.hash_secret, "appointment", apt_num)
            await log_appointment_history(cur, apt_num, action="Changed", now=now)
            await log_api_write(cur, ctx.caller, perm="AppointmentEdit", what="Appointment edited",
                                pat_num=int(row["PatNum"]), fkey=apt_num)
            row = await fetch_row(cur, "appointment", apt_num)
    assert row is not None
    return render("appointment", row, appointment_fields(lookups))


@routes.put("/api/v1/appointments/{AptNum:\\d+}")
@requires(Permission.APPOINTMENTS)
async def put_appointment(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    apt_num = url_id(request, "AptNum")
    values = parse_fields(await json_body(request), UPDATE_FIELDS)
    return ok(await _update(ctx, apt_num, values))
