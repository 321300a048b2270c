"""The run's changes of existing rows, read where they live: each applied appointment.update's
fields hold their values in Open Dental's appointment table, each applied appointment.note's
text is in its appointment's Note exactly once (an append sent twice would show twice), and each
applied sheet.fill's sheet has every field sent, by FieldName, once, holding the value sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts import Intent
from contracts.v1.appointment_edit import AppointmentNote, AppointmentUpdate
from contracts.v1.sheet import SheetFill
from hub.opendental.readonly_sql import ReadOnlyDatabase
from lab.demo import labels
from lab.demo.accounting import StepResult

_UPDATED = "SELECT Pattern FROM appointment WHERE AptNum = %s"
# How many times the text occurs in the Note (an empty text is refused by the contract).
_NOTE_COUNT = (
    "SELECT (CHAR_LENGTH(Note) - CHAR_LENGTH(REPLACE(Note, %s, ''))) DIV CHAR_LENGTH(%s) AS n"
    " FROM appointment WHERE AptNum = %s"
)

# The sheet's rows for the names sent, and those of them holding the value sent (each field of a
# sheet is one sheetfield row; a name twice or a value unset would show). BINARY: byte for byte,
# since Open Dental's collation would take a CheckBox's "x" for the "X" sent.
_SHEET_NAMED = (
    "SELECT COUNT(*) AS n FROM sheetfield WHERE SheetNum = %s AND BINARY FieldName IN ({names})"
)
_SHEET_SET = (
    "SELECT COUNT(*) AS n FROM sheetfield WHERE SheetNum = %s"
    " AND (BINARY FieldName, BINARY FieldValue) IN ({pairs})"
)


@dataclass(frozen=True, kw_only=True)
class ChangeCheck:
    contract: str
    key: str
    od_num: int  # the AptNum changed, or the SheetNum filled
    ok: bool
    seen: str  # what was found: the Pattern, how many times the note is there, fields set


async def _sheet_fields(db: ReadOnlyDatabase, sheet_num: int, fields: dict[str, str]) -> str:
    """``set/named/sent``: the fields holding the value sent, the rows named as sent, and how
    many were sent; all three equal when the fill is whole and once."""
    names = ", ".join(["%s"] * len(fields))
    pairs = ", ".join(["(%s, %s)"] * len(fields))
    named = await db.select("demo_sheet_fields_named", _SHEET_NAMED.format(names=names),
                            (sheet_num, *fields))
    values = [item for pair in fields.items() for item in pair]
    set_ = await db.select("demo_sheet_fields_set", _SHEET_SET.format(pairs=pairs),
                           (sheet_num, *values))
    return f"{set_[0]['n']}/{named[0]['n']}/{len(fields)}"


async def _check(db: ReadOnlyDatabase, result: StepResult, intent: Intent) -> ChangeCheck | None:
    payload, num = intent.payload, result.od_key
    if num is None:
        return None
    if isinstance(payload, SheetFill):
        seen = await _sheet_fields(db, num, payload.fields)
        ok = seen == "/".join([str(len(payload.fields))] * 3)
    elif isinstance(payload, AppointmentUpdate):
        rows = await db.select("demo_appointment_update", _UPDATED, (num,))
        seen = str(rows[0]["Pattern"]) if rows else "no row"
        ok = seen == payload.Pattern
    elif isinstance(payload, AppointmentNote):
        rows = await db.select(
            "demo_appointment_note", _NOTE_COUNT, (payload.Note, payload.Note, num)
        )
        seen = str(rows[0]["n"]) if rows else "no row"
        ok = seen == "1"
    else:
        return None
    return ChangeCheck(contract=intent.contract, key=intent.idempotency_key, od_num=num,
                       ok=ok, seen=seen)


async def check_changes(db: ReadOnlyDatabase, results: Sequence[StepResult]) -> list[ChangeCheck]:
    """One check per applied appointment.update, appointment.note or sheet.fill of the run
    (first delivery only: a duplicate names the same change)."""
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
