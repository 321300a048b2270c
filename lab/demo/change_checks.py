"""The run's changes of existing rows, read where they live: each applied appointment.update's
fields hold their values in Open Dental's appointment table, and each applied appointment.note's
text is in its appointment's Note exactly once (an append sent twice would show twice)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts import Intent
from contracts.v1.appointment_edit import AppointmentNote, AppointmentUpdate
from hub.opendental.readonly_sql import ReadOnlyDatabase
from lab.demo import labels
from lab.demo.accounting import StepResult

_UPDATED = "SELECT Pattern FROM appointment WHERE AptNum = %s"
# How many times the text occurs in the Note (an empty text is refused by the contract).
_NOTE_COUNT = (
    "SELECT (CHAR_LENGTH(Note) - CHAR_LENGTH(REPLACE(Note, %s, ''))) DIV CHAR_LENGTH(%s) AS n"
    " FROM appointment WHERE AptNum = %s"
)


@dataclass(frozen=True, kw_only=True)
class ChangeCheck:
    contract: str
    key: str
    apt_num: int
    ok: bool
    seen: str  # what was found: the Pattern, or how many times the note is there


async def _check(db: ReadOnlyDatabase, result: StepResult, intent: Intent) -> ChangeCheck | None:
    payload, apt_num = intent.payload, result.od_key
    if apt_num is None:
        return None
    if isinstance(payload, AppointmentUpdate):
        rows = await db.select("demo_appointment_update", _UPDATED, (apt_num,))
        seen = str(rows[0]["Pattern"]) if rows else "no row"
        ok = seen == payload.Pattern
    elif isinstance(payload, AppointmentNote):
        rows = await db.select(
            "demo_appointment_note", _NOTE_COUNT, (payload.Note, payload.Note, apt_num)
        )
        seen = str(rows[0]["n"]) if rows else "no row"
        ok = seen == "1"
    else:
        return None
    return ChangeCheck(contract=intent.contract, key=intent.idempotency_key, apt_num=apt_num,
                       ok=ok, seen=seen)


async def check_changes(db: ReadOnlyDatabase, results: Sequence[StepResult]) -> list[ChangeCheck]:
    """One check per applied appointment.update or appointment.note of the run (first delivery
    only: a duplicate names the same change)."""
    checks: list[ChangeCheck] = []
    seen_keys: set[str] = set()
    for result in results:
        body = result.sent.step.body
        if result.label != labels.APPLIED or not isinstance(body, Intent):
            continue
        if body.idempotency_key in seen_keys:
            continue
        check = await _check(db, result, body)
        if check is not None:
            seen_keys.add(body.idempotency_key)
            checks.append(check)
    return checks
