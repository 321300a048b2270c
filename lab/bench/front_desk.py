"""watch: each office's front desk at work during the window, written in SQL as Open Dental
writes it when a person at the office acts: the row changes (MariaDB stamps it), and the
securitylog gets a row about it with the user's UserNum and LogSource None (opendental-api.md
§5.2), in one transaction.

A busy desk's minute, in order: an appointment moved (its SecurityHash recomputed over the
hashed columns, as Open Dental rehashes what it changes; the lab's hash is a stand-in for Open
Dental's keyed one, which only changes with them), a patient's record edited, another move, a
call logged as a commlog, another move, another edit. Changes go out evenly over the window,
office after office, each office's changes on rows of their own (``STRIDE`` steps through the
keys), so no row changes twice in one second.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import aiomysql

from hub.settings import MySqlSettings
from lab.bench.watch_offices import WatchOffice, patient_of

FRONT_DESK_USER = 7
LOG_SOURCE_NONE = 0
STRIDE = 7919  # a prime: 1 + j * STRIDE mod N visits N distinct keys before one comes again
WRITERS = 4  # connections the offices' changes go through
PROGRESS_EVERY_S = 60.0
APPOINTMENT_MOVE, PATIENT_EDIT, COMMLOG_CREATE = 26, 108, 193  # securitylog.PermType
MODE_PHONE, SENT = 3, 1  # commlog.Mode_, commlog.SentOrReceived
Progress = Callable[[str], None]


class ChangeKind(StrEnum):
    APPOINTMENT_MOVE = "appointment_move"
    PATIENT_EDIT = "patient_edit"
    COMMLOG = "commlog"


MIX = (
    ChangeKind.APPOINTMENT_MOVE, ChangeKind.PATIENT_EDIT, ChangeKind.APPOINTMENT_MOVE,
    ChangeKind.COMMLOG, ChangeKind.APPOINTMENT_MOVE, ChangeKind.PATIENT_EDIT,
)
UPDATES = frozenset({ChangeKind.APPOINTMENT_MOVE, ChangeKind.PATIENT_EDIT})


@dataclass(frozen=True, kw_only=True)
class Change:
    at_s: float  # after the window opened
    office: WatchOffice
    kind: ChangeKind
    key: int  # the appointment moved, the patient edited, the patient a call was about
    patient: int
    tag: str  # makes the edited value new, whatever the row held before


def _stride(rows: int) -> int:
    return STRIDE if math.gcd(STRIDE, rows) == 1 else 1


def schedule(
    offices: Sequence[WatchOffice], *, seconds: float, per_min: float, patients: int,
    appointments: int, run_id: str,
) -> list[Change]:
    """The window's changes, in time order, evenly spaced, offices taking turns."""
    per_office = max(1, round(seconds * per_min / 60))
    total = per_office * len(offices)
    changes = []
    for index in range(total):
        office, turn = offices[index % len(offices)], index // len(offices)
        kind = MIX[turn % len(MIX)]
        if kind is ChangeKind.APPOINTMENT_MOVE:
            key = 1 + turn * _stride(appointments) % appointments
            patient = patient_of(key, patients)
        else:
            key = patient = 1 + turn * _stride(patients) % patients
        changes.append(Change(at_s=index * seconds / total, office=office, kind=kind, key=key,
                              patient=patient, tag=f"{run_id}-{turn}"))
    return changes


async def _log(cur: aiomysql.Cursor, change: Change, perm_type: int, fkey: int, text: str) -> None:
    await cur.execute(
        f"INSERT INTO `{change.office.database}`.securitylog (PermType, UserNum, LogDateTime,"
        " LogText, PatNum, CompName, FKey, LogSource) VALUES (%s, %s, NOW(), %s, %s,"
        " 'FRONTDESK1', %s, %s)",
        (perm_type, FRONT_DESK_USER, text, change.patient, fkey, LOG_SOURCE_NONE),
    )


async def _write(cur: aiomysql.Cursor, change: Change) -> None:
    db = change.office.database
    if change.kind is ChangeKind.APPOINTMENT_MOVE:
        # MariaDB assigns left to right: the hash is over the new AptDateTime.
        await cur.execute(
            f"UPDATE `{db}`.appointment SET AptDateTime = AptDateTime + INTERVAL 1 DAY,"
            " SecurityHash = SHA2(CONCAT_WS('|', AptStatus, Confirmed, AptDateTime), 256)"
            " WHERE AptNum = %s", (change.key,),
        )
        await _log(cur, change, APPOINTMENT_MOVE, change.key, "Appointment moved.")
    elif change.kind is ChangeKind.PATIENT_EDIT:
        await cur.execute(f"UPDATE `{db}`.patient SET Email = %s WHERE PatNum = %s",
                          (f"bench-{change.tag}@example.invalid", change.key))
        await _log(cur, change, PATIENT_EDIT, change.key, "Patient edited.")
    else:
        await cur.execute(
            f"INSERT INTO `{db}`.commlog (PatNum, CommDateTime, Note, Mode_, SentOrReceived,"
            " UserNum, DateTEntry) VALUES (%s, NOW(), 'Confirmation call.', %s, %s, %s, NOW())",
            (change.patient, MODE_PHONE, SENT, FRONT_DESK_USER),
        )
        await _log(cur, change, COMMLOG_CREATE, int(cur.lastrowid), "Commlog created.")


async def _apply(pool: aiomysql.Pool, change: Change) -> None:
    async with pool.acquire() as conn:
        await conn.begin()
        async with conn.cursor() as cur:
            await _write(cur, change)
        await conn.commit()


async def play(
    account: MySqlSettings, changes: Sequence[Change], progress: Progress
) -> Counter[ChangeKind]:
    """Make the changes at their times; how many of each kind were made."""
    pool = await aiomysql.create_pool(
        host=account.host, port=account.port, user=account.user,
        password=account.password.get_secret_value(), autocommit=True, minsize=0,
        maxsize=WRITERS,
    )
    made: Counter[ChangeKind] = Counter()
    try:
        started = next_report = time.monotonic()
        tasks: list[asyncio.Task[None]] = []
        for change in changes:
            await asyncio.sleep(max(0.0, started + change.at_s - time.monotonic()))
            tasks.append(asyncio.create_task(_apply(pool, change)))
            made[change.kind] += 1
            if time.monotonic() >= next_report + PROGRESS_EVERY_S:
                next_report = time.monotonic()
                progress(f"watch: {made.total()} of {len(changes)} front-desk changes made")
        await asyncio.gather(*tasks)
    finally:
        pool.close()
        await pool.wait_closed()
    return made
