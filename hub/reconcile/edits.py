"""Did a change of an existing appointment whose reply was lost land? Asked of the office's
database, read-only, like the creates' lookups (reconcile.py), for the two contracts a plain
resend would not settle well.

appointment.update (a sparse PUT): the row is read; if every field the intent sends already
holds its value, the update is ``Found`` (applied, nothing sent), else ``NotFound`` (sent again,
which has the one update's effect). The office's lane keeps the order of a vendor's intents, so
a second update of the same appointment is not sent before this one is settled: the row read is
this update's doing or its predecessors', never a successor's.

appointment.note (PUT Note appends: a resend doubles the text). The hub never marks the
vendor's text; it goes by what Open Dental records of every API edit, a securitylog row
(LogSource API, AppointmentEdit, FKey = AptNum) in the edit's own transaction, and by the
ledger's record of the hub's other intents on the appointment. Let E be the API edits of the
appointment logged since the attempt's window began, and K the hub's other intents recorded
applied to it in the window whose calls log such an edit (update, note, break):

- E = 0: the append did not land (``NotFound``), whatever the Note ends with (the same text
  appended earlier, by another intent, is that intent's);
- the Note ends with the text on a line of its own: ``Found`` when E > K (an edit no other
  intent of the hub accounts for: this attempt's), ``Ambiguous`` when E <= K (every edit may be
  another intent's, perhaps with the same text: a person decides rather than lose or double a
  note);
- the text in the Note but not last: someone appended after it, ``Ambiguous``;
- the text nowhere in the Note: ``NotFound``.

Limits (docs/architecture.md, "When things fail"): another program writing through the API
with the office's key in the window counts as an edit; with the text last, that reads as
``Found`` though the append did not land (the note is lost once, never doubled).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts import Intent
from contracts.v1.appointment_edit import AppointmentNote, AppointmentUpdate
from hub.opendental.edit_queries import AppointmentNow, api_edits_since, appointment_now
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import Candidate, OdTable
from hub.reconcile.known_rows import KnownRows
from hub.reconcile.verdicts import Ambiguous, AttemptWindow, Found, NotFound
from hub.reconcile.window import office_local_since

OD_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
LINE_BREAKS = ("\n", "\r")
# The contracts whose calls Open Dental logs as an API AppointmentEdit of the appointment.
LOGGED_AS_EDITS = frozenset({"appointment.update", "appointment.note", "appointment.break"})


def _wanted(column: str, value: object) -> object:
    """A field's value as the database column holds it."""
    if column == "AptDateTime" and isinstance(value, str):
        return datetime.strptime(value, OD_DATETIME_FORMAT)
    return value


def update_landed(update: AppointmentUpdate, now: AppointmentNow) -> bool:
    """Whether every field the update sends already holds the value it sends."""
    sent = update.od_fields()
    return all(
        now.schedule.get(column) == _wanted(column, value)
        for column, value in sent.items() if column in now.schedule
    )


def note_is_last(note: str, text: str) -> bool:
    """Whether ``note`` ends with ``text`` as a line of its own (or is exactly it)."""
    if note == text:
        return True
    return note.endswith(text) and note[: -len(text)].endswith(LINE_BREAKS)


def _the_appointment(now: AppointmentNow) -> Ambiguous:
    return Ambiguous(candidates=(Candidate(
        table=OdTable.APPOINTMENT, primary_key=now.apt_num, pat_num=now.pat_num,
        created_at=datetime.min, securitylog_num=None,
    ),))


async def _settle_note(
    note: AppointmentNote, now: AppointmentNow, *, office_id: str, window: AttemptWindow,
    db: ReadOnlyDatabase, known_rows: KnownRows, clock_skew: timedelta,
) -> Found | NotFound | Ambiguous:
    since = await office_local_since(db, window) - clock_skew
    edits = await api_edits_since(db, now.apt_num, since)
    if not edits:
        return NotFound()
    if note_is_last(now.note, note.Note):
        others = await known_rows.changed_since(
            office_id, OdTable.APPOINTMENT.value, now.apt_num, since=window.earliest,
            besides=window.intent_id, contracts=LOGGED_AS_EDITS,
        )
        if edits > len(others):
            return Found(table=OdTable.APPOINTMENT, primary_key=now.apt_num)
        return _the_appointment(now)
    if note.Note in now.note:
        return _the_appointment(now)
    return NotFound()


async def settle_edit(
    intent: Intent, *, apt_num: int | None, window: AttemptWindow, db: ReadOnlyDatabase,
    known_rows: KnownRows, clock_skew: timedelta,
) -> Found | NotFound | Ambiguous | None:
    """The verdict on an appointment.update or appointment.note in doubt; None for any other
    contract. ``apt_num``: the appointment the request was sent for (the payload's AptNum or
    the one its AppointmentRef resolved to)."""
    payload = intent.payload
    if not isinstance(payload, AppointmentUpdate | AppointmentNote):
        return None
    if apt_num is None:
        raise ValueError("an appointment's change needs the AptNum it was sent for")
    now = await appointment_now(db, apt_num)
    if now is None:  # sent again, Open Dental answers 404: rejected, as it would have been
        return NotFound()
    if isinstance(payload, AppointmentUpdate):
        if update_landed(payload, now):
            return Found(table=OdTable.APPOINTMENT, primary_key=apt_num)
        return NotFound()
    return await _settle_note(
        payload, now, office_id=intent.office_id, window=window, db=db, known_rows=known_rows,
        clock_skew=clock_skew,
    )
