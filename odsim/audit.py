"""What Open Dental records for every write, in the write's own transaction: a securitylog row
with its securityloghash, and for appointments a histappointment copy.

An API write logs LogSource API, UserNum 0, "... by {DeveloperName} through API."; a front-desk
user's write (odsim/doors.py) logs LogSource None, the user's UserNum and the workstation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import aiomysql

from odsim.auth import Caller
from odsim.catalog import enum_of, table
from odsim.render import format_datetime

API_LOG_SOURCE = "API"
API_COMP_NAME = "API"


def perm_type(name: str) -> int:
    return enum_of("securitylog", "PermType")[name]


def _log_hash(
    log_num: int, perm: int, user_num: int, pat_num: int, fkey: int, when: datetime, text: str
) -> str:
    # Open Dental hashes the row's fields so that an edited log shows as tampered.
    material = "|".join(
        (str(log_num), str(perm), str(user_num), format_datetime(when), text, str(pat_num),
         str(fkey))
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    """One securitylog row: who (UserNum, LogSource, CompName), what (PermType, LogText) and
    which row (PatNum, FKey)."""

    perm: str  # a PermType name, e.g. "PatientEdit"
    text: str
    pat_num: int
    fkey: int
    user_num: int = 0
    source: str = API_LOG_SOURCE  # a LogSource name
    comp_name: str = API_COMP_NAME


async def log_write(
    cur: aiomysql.Cursor, entry: LogEntry, *, now: datetime | None = None
) -> int:
    """Insert the securitylog and securityloghash rows; returns the SecurityLogNum. LogDateTime
    is the server's time at the insert, as Open Dental's is (a DateTEntry column: "it uses server
    time"), unless ``now`` says otherwise (the lab's doors, stamping changes in the past)."""
    number = perm_type(entry.perm)
    await cur.execute(
        "INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, PatNum, CompName,"
        " FKey, LogSource) VALUES (%s, %s, COALESCE(%s, NOW()), %s, %s, %s, %s, %s)",
        (number, entry.user_num, now, entry.text, entry.pat_num, entry.comp_name, entry.fkey,
         enum_of("securitylog", "LogSource")[entry.source]),
    )
    log_num = int(cur.lastrowid)
    if now is None:
        await cur.execute(
            "SELECT LogDateTime FROM securitylog WHERE SecurityLogNum = %s", (log_num,)
        )
        row = await cur.fetchone()
        now = row["LogDateTime"] if isinstance(row, dict) else row[0]
    digest = _log_hash(
        log_num, number, entry.user_num, entry.pat_num, entry.fkey, now, entry.text
    )
    await cur.execute(
        "INSERT INTO securityloghash (SecurityLogNum, LogHash) VALUES (%s, %s)",
        (log_num, digest),
    )
    return log_num


def api_text(what: str, developer_name: str) -> str:
    """Open Dental's LogText for an API write, e.g. "Updated by Acme through API."."""
    return f"{what} by {developer_name} through API."


async def log_api_write(
    cur: aiomysql.Cursor, caller: Caller, *, perm: str, what: str, pat_num: int, fkey: int
) -> int:
    """The securitylog entry of a write by ``caller`` through the API, stamped by the server at
    its insert; the SecurityLogNum."""
    entry = LogEntry(perm=perm, text=api_text(what, caller.developer_name), pat_num=pat_num,
                     fkey=fkey)
    return await log_write(cur, entry)


def _shared_appointment_columns() -> str:
    hist = set(table("histappointment").column_names)
    return ", ".join(f"`{c}`" for c in table("appointment").column_names if c in hist)


async def log_appointment_history(
    cur: aiomysql.Cursor, apt_num: int, *, action: str, now: datetime, user_num: int = 0
) -> None:
    """Copy the appointment as it now is into histappointment with the given HistApptAction
    (HistUserNum 0 for the API, the user's for the front desk)."""
    columns = _shared_appointment_columns()
    await cur.execute(
        f"INSERT INTO histappointment (HistUserNum, HistDateTStamp, HistApptAction, {columns})"
        f" SELECT %s, %s, %s, {columns} FROM appointment WHERE AptNum = %s",
        (user_num, now, enum_of("histappointment", "HistApptAction")[action], apt_num),
    )
