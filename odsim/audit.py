"""What Open Dental records for every API write, in the write's own transaction: a securitylog
row (LogSource API, UserNum 0, "... by {DeveloperName} through API."), its securityloghash, and
for appointments a histappointment copy."""

from __future__ import annotations

import hashlib
from datetime import datetime

import aiomysql

from odsim.auth import Caller
from odsim.catalog import enum_of, table
from odsim.render import format_datetime

API_LOG_SOURCE = "API"
API_COMP_NAME = "API"


def perm_type(name: str) -> int:
    return enum_of("securitylog", "PermType")[name]


def _log_hash(log_num: int, perm: int, pat_num: int, fkey: int, when: datetime, text: str) -> str:
    # Open Dental hashes the row's fields so that an edited log shows as tampered.
    material = "|".join(
        (str(log_num), str(perm), "0", format_datetime(when), text, str(pat_num), str(fkey))
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


async def log_api_write(
    cur: aiomysql.Cursor, caller: Caller, *, perm: str, what: str, pat_num: int, fkey: int,
    now: datetime,
) -> int:
    """Insert the securitylog and securityloghash rows; returns the SecurityLogNum."""
    number = perm_type(perm)
    text = f"{what} by {caller.developer_name} through API."
    await cur.execute(
        "INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, PatNum, CompName,"
        " FKey, LogSource) VALUES (%s, 0, %s, %s, %s, %s, %s, %s)",
        (number, now, text, pat_num, API_COMP_NAME, fkey,
         enum_of("securitylog", "LogSource")[API_LOG_SOURCE]),
    )
    log_num = int(cur.lastrowid)
    await cur.execute(
        "INSERT INTO securityloghash (SecurityLogNum, LogHash) VALUES (%s, %s)",
        (log_num, _log_hash(log_num, number, pat_num, fkey, now, text)),
    )
    return log_num


def _shared_appointment_columns() -> str:
    hist = set(table("histappointment").column_names)
    return ", ".join(f"`{c}`" for c in table("appointment").column_names if c in hist)


async def log_appointment_history(
    cur: aiomysql.Cursor, apt_num: int, *, action: str, now: datetime
) -> None:
    """Copy the appointment as it now is into histappointment with the given HistApptAction."""
    columns = _shared_appointment_columns()
    await cur.execute(
        f"INSERT INTO histappointment (HistUserNum, HistDateTStamp, HistApptAction, {columns})"
        f" SELECT 0, %s, %s, {columns} FROM appointment WHERE AptNum = %s",
        (now, enum_of("histappointment", "HistApptAction")[action], apt_num),
    )
