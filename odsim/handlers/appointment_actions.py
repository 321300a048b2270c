"""Appointments PUT Confirm and PUT Break [Comm] (opendental-api.md §4.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from odsim.audit import log_api_write, log_appointment_history
from odsim.auth import requires
from odsim.config import Permission
from odsim.errors import ApiError, bad_request, invalid, not_found, required
from odsim.fields import office_now, parse_bool, parse_int
from odsim.handlers.appointment_fields import BROKEN, SCHEDULED, UNSCHED_LIST
from odsim.handlers.common import fetch_row, update_row
from odsim.handlers.patient_rules import live_patient
from odsim.lookups import APPT_CONFIRMED, Lookups, load_lookups
from odsim.security_hash import rehash
from odsim.state import Ctx, ctx_of, json_body, url_id

routes = web.RouteTableDef()
CONFIRM_VALUES = ("None", "Sent", "Confirmed", "Not Accepted", "Failed")
BREAK_TYPES = {"Missed": "Missed", "Cancelled": "Cancelled"}  # -> HistApptAction


def _confirmed_def(body: Mapping[str, Any], lookups: Lookups) -> int:
    """The DefNum (Category ApptConfirmed) named by exactly one of confirmVal or defNum."""
    if ("confirmVal" in body) == ("defNum" in body):
        raise bad_request("Exactly one of confirmVal or defNum is required.")
    if "defNum" in body:
        return lookups.check_def("defNum", parse_int("defNum", body["defNum"]), APPT_CONFIRMED)
    value = body["confirmVal"]
    if value not in CONFIRM_VALUES:
        raise invalid("confirmVal", f"Must be one of: {', '.join(CONFIRM_VALUES)}.")
    # "None" is the office's first ApptConfirmed definition; the others are named statuses.
    def_num = lookups.first_def(APPT_CONFIRMED) if value == "None" else (
        lookups.def_named(APPT_CONFIRMED, value)
    )
    if not def_num:
        raise invalid("confirmVal")
    return def_num


async def _change(ctx: Ctx, apt_num: int, body: Mapping[str, Any], *, breaking: bool) -> None:
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        row = await fetch_row(cur, "appointment", apt_num, for_update=True)
        if row is None:
            raise not_found("Appointment not found.")
        await live_patient(cur, int(row["PatNum"]))
        if breaking:
            values, action = _break_values(body, row["AptStatus"])
            perm, what = "AppointmentEdit", "Appointment broken"
        else:
            values = {"Confirmed": _confirmed_def(body, await load_lookups(cur))}
            action, perm, what = "Changed", "ApptConfirmStatusEdit", "Appointment confirmed"
        await update_row(cur, "appointment", apt_num, values)
        await rehash(cur, ctx.hash_secret, "appointment", apt_num)
        await log_appointment_history(cur, apt_num, action=action, now=now)
        await log_api_write(cur, ctx.caller, perm=perm, what=what,
                            pat_num=int(row["PatNum"]), fkey=apt_num)


def _break_values(body: Mapping[str, Any], status: int) -> tuple[dict[str, object], str]:
    if "sendToUnscheduledList" not in body:
        raise required("sendToUnscheduledList")
    to_list = parse_bool("sendToUnscheduledList", body["sendToUnscheduledList"])
    break_type = body.get("breakType")
    if break_type is not None and break_type not in BREAK_TYPES:
        raise invalid("breakType", "Must be one of: Missed, Cancelled.")
    if status != SCHEDULED:
        raise ApiError(400, "Only scheduled appointments may be broken.")
    action = BREAK_TYPES[break_type] if break_type else "Changed"
    return {"AptStatus": UNSCHED_LIST if to_list else BROKEN}, action


@routes.put("/api/v1/appointments/{AptNum:\\d+}/Confirm")
@requires(Permission.COMM)
async def put_confirm(request: web.Request) -> web.StreamResponse:
    await _change(ctx_of(request), url_id(request, "AptNum"), await json_body(request),
                  breaking=False)
    return web.Response(status=200)


@routes.put("/api/v1/appointments/{AptNum:\\d+}/Break")
@requires(Permission.COMM)
async def put_break(request: web.Request) -> web.StreamResponse:
    await _change(ctx_of(request), url_id(request, "AptNum"), await json_body(request),
                  breaking=True)
    return web.Response(status=200)
