"""Appointments PUT Note [Comm] (opendental-api.md §4.2, §4.7): appends a line to the Note.

Not idempotent: the same body sent twice leaves the text there twice. Where the separator is
UNCONFIRMED, the simulator's choice (documented in docs/simulator.md): the text alone when the
Note is empty, else the Note, a CR LF (how Open Dental's own text boxes store a new line) and the
text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from odsim.audit import log_api_write, log_appointment_history
from odsim.auth import requires
from odsim.config import Permission
from odsim.errors import bad_request, not_found, required
from odsim.fields import office_now
from odsim.handlers.common import fetch_row, update_row
from odsim.handlers.patient_rules import live_patient
from odsim.state import ctx_of, json_body, url_id

routes = web.RouteTableDef()
LINE_BREAK = "\r\n"
# appointment.Note is a MySQL text column.
NOTE_MAX_BYTES = 65_535


def appended(note: str, text: str) -> str:
    """The Note after an append of ``text``."""
    return f"{note}{LINE_BREAK}{text}" if note else text


def _note_of(body: Mapping[str, Any]) -> str:
    if "Note" not in body:
        raise required("Note")
    note = body["Note"]
    if not isinstance(note, str) or not note:
        raise bad_request("Note is required.")
    return note


@routes.put("/api/v1/appointments/{AptNum:\\d+}/Note")
@requires(Permission.COMM)
async def put_note(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    apt_num = url_id(request, "AptNum")
    text = _note_of(await json_body(request))
    now = office_now()
    async with ctx.pools.transaction(ctx.database) as cur:
        row = await fetch_row(cur, "appointment", apt_num, for_update=True)
        if row is None:
            raise not_found("Appointment not found.")
        await live_patient(cur, int(row["PatNum"]))
        note = appended(str(row["Note"] or ""), text)
        if len(note.encode("utf-8")) > NOTE_MAX_BYTES:
            raise bad_request("Note is too long.")
        await update_row(cur, "appointment", apt_num, {"Note": note})
        await log_appointment_history(cur, apt_num, action="Changed", now=now)
        await log_api_write(cur, ctx.caller, perm="AppointmentEdit", what="Appointment note added",
                            pat_num=int(row["PatNum"]), fkey=apt_num)
    return web.Response(status=200)
