"""Did a change whose reply was lost happen anyway? Read-only reads for the writes that change an
existing row or offset one: an appointment's schedule fields and Note, its API edits in the
securitylog, and the API refunds of a payment.

Columns are Open Dental's own and every one is named, so the reads also run against a real
office's database; each goes by a primary key or securitylog's FKey index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import (
    LOG_SOURCE_API,
    PAYMENT_SOURCE_API,
    Candidate,
    OdTable,
    PermType,
)

# The schedule fields appointment.update may change, as appointment's columns.
SCHEDULE_COLUMNS = ("AptDateTime", "Op", "Pattern", "ProvNum")


@dataclass(frozen=True, kw_only=True)
class AppointmentNow:
    """An appointment's schedule fields and Note as the office's database holds them."""

    apt_num: int
    pat_num: int
    schedule: dict[str, object]
    note: str


async def appointment_now(db: ReadOnlyDatabase, apt_num: int) -> AppointmentNow | None:
    """The appointment's row now, or None when there is none."""
    columns = ", ".join(SCHEDULE_COLUMNS)
    rows = await db.select(
        "reconcile_appointment_edit",
        f"SELECT AptNum, PatNum, {columns}, Note FROM appointment WHERE AptNum = %s",
        [apt_num],
    )
    if not rows:
        return None
    row = rows[0]
    note = row["Note"]
    return AppointmentNow(
        apt_num=int(str(row["AptNum"])), pat_num=int(str(row["PatNum"])),
        schedule={column: row[column] for column in SCHEDULE_COLUMNS},
        note=note if isinstance(note, str) else "",
    )


async def api_edits_since(db: ReadOnlyDatabase, apt_num: int, since: datetime) -> int:
    """How many appointment edits the API logged for the appointment at or after ``since``
    (office local time): every Appointments PUT and PUT Note writes one, in its own
    transaction."""
    rows = await db.select(
        "reconcile_appointment_edits",
        "SELECT COUNT(*) AS Edits FROM securitylog WHERE FKey = %s AND LogSource = "
        f"{LOG_SOURCE_API} AND PermType = %s AND LogDateTime >= %s",
        [apt_num, PermType.AppointmentEdit.value, since],
    )
    return int(str(rows[0]["Edits"])) if rows else 0


async def find_refunds(db: ReadOnlyDatabase, pay_num: int) -> list[Candidate]:
    """The API payments whose splits offset the splits of payment ``pay_num`` (paysplit
    FSplitNum): its refunds, whenever made, with the API's create entry for each."""
    sql = (
        "SELECT p.PayNum AS PrimaryKey, p.PatNum, p.SecDateTEdit AS CreatedAt,"
        " MIN(s.SecurityLogNum) AS SecurityLogNum"
        " FROM paysplit o JOIN paysplit r ON r.FSplitNum = o.SplitNum"
        " JOIN payment p ON p.PayNum = r.PayNum"
        " LEFT JOIN securitylog s ON s.FKey = p.PayNum"
        f" AND s.LogSource = {LOG_SOURCE_API} AND s.PermType = %s"
        f" WHERE o.PayNum = %s AND p.PayNum <> o.PayNum AND p.PaymentSource = {PAYMENT_SOURCE_API}"
        " GROUP BY p.PayNum, p.PatNum, p.SecDateTEdit ORDER BY p.PayNum"
    )
    rows = await db.select("reconcile_payment", sql, [PermType.PaymentCreate.value, pay_num])
    return [
        Candidate(
            table=OdTable.PAYMENT, primary_key=int(str(row["PrimaryKey"])),
            pat_num=int(str(row["PatNum"])),
            created_at=row["CreatedAt"] if isinstance(row["CreatedAt"], datetime)
            else datetime.min,
            securitylog_num=None if row["SecurityLogNum"] is None
            else int(str(row["SecurityLogNum"])),
        )
        for row in rows
    ]
