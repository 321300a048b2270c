"""Did a create whose reply was lost happen anyway? Read-only lookups in the office's database.

Open Dental has no idempotency keys (opendental-api.md §6): after a POST whose reply was lost, the
row may exist. Each function finds the rows its create method could have made since the attempt
began: the natural keys of the intent, a creation time inside the window, and, LEFT JOINed, the
securitylog row Open Dental writes with every API create (LogSource API, the create PermType,
FKey = the new row's key). No candidate means it is safe to send again; one means it happened;
several mean a person has to look.

Times are the office's local time without a zone (what Open Dental stores), to the second.
Columns are Open Dental's own and every column is named, so the queries also run against a real
office's database; the lookups use the indexes on (LName, FName, Birthdate), (PatNum, AptDateTime),
(PatNum, CommDateTime), (PatNum) and securitylog (FKey).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import TypeVar

from hub.errors import PermanentError
from hub.opendental.readonly_sql import ReadOnlyDatabase

LOG_SOURCE_API = 23  # securitylog.LogSource: the non-FHIR API
PAYMENT_SOURCE_API = 13  # payment.PaymentSource (CreditCardSource): API
# The hub's clock and the office server's may disagree a little; look this far before the attempt
# (each lookup's ``clock_skew``; a test that arranges both clocks itself may pass less).
CLOCK_SKEW = timedelta(seconds=2)
# PayAmt is a double: compare within half a cent.
PAY_AMT_TOLERANCE = 0.005

T = TypeVar("T")


class OdTable(StrEnum):
    PATIENT = "patient"
    APPOINTMENT = "appointment"
    COMMLOG = "commlog"
    PAYMENT = "payment"
    DOCUMENT = "document"
    PATFIELD = "patfield"
    ALLERGY = "allergy"
    MEDICATIONPAT = "medicationpat"
    DISEASE = "disease"


class PermType(IntEnum):
    """securitylog.PermType values for the rows the hub creates and edits (EnumPermType)."""

    PaymentCreate = 15
    PaymentEdit = 16
    AppointmentCreate = 25
    AppointmentMove = 26
    AppointmentEdit = 27
    CommlogEdit = 43
    PatProblemListEdit = 71
    PatMedicationListEdit = 72
    PatAllergyListEdit = 73
    PatientFieldEdit = 80
    ImageEdit = 89
    PatientCreate = 106
    PatientEdit = 108
    ApptConfirmStatusEdit = 120
    CommlogCreate = 193
    ImageCreate = 202
    AppointmentDelete = 237


# The audit entries that concern a row of each table (securitylog.FKey holds the row's key).
PERM_TYPES_OF: dict[OdTable, tuple[PermType, ...]] = {
    OdTable.PATIENT: (PermType.PatientCreate, PermType.PatientEdit),
    OdTable.APPOINTMENT: (
        PermType.AppointmentCreate, PermType.AppointmentEdit, PermType.AppointmentMove,
        PermType.ApptConfirmStatusEdit, PermType.AppointmentDelete,
    ),
    OdTable.COMMLOG: (PermType.CommlogCreate, PermType.CommlogEdit),
    OdTable.PAYMENT: (PermType.PaymentCreate, PermType.PaymentEdit),
    OdTable.DOCUMENT: (PermType.ImageCreate, PermType.ImageEdit),
    OdTable.PATFIELD: (PermType.PatientFieldEdit,),
    OdTable.ALLERGY: (PermType.PatAllergyListEdit,),
    OdTable.MEDICATIONPAT: (PermType.PatMedicationListEdit,),
    OdTable.DISEASE: (PermType.PatProblemListEdit,),
}


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """A row that the lost create may have made. ``created_at`` is the row's entry time
    (appointment SecDateTEntry, commlog DateTEntry) or, where Open Dental keeps only an entry
    date (patient, payment) or none (document), its last-change stamp."""

    table: OdTable
    primary_key: int
    pat_num: int
    created_at: datetime
    securitylog_num: int | None


@dataclass(frozen=True, kw_only=True)
class SecurityLogEntry:
    securitylog_num: int
    log_datetime: datetime
    perm_type: str  # the EnumPermType name, e.g. "PatientCreate"
    log_text: str
    user_num: int


def _window_start(since: datetime, clock_skew: timedelta) -> datetime:
    if since.tzinfo is not None:
        raise ValueError("since is the office's local time, without a zone")
    if clock_skew < timedelta(0):
        raise ValueError("clock_skew must not be negative")
    return (since - clock_skew).replace(microsecond=0)


def _typed(row: dict[str, object], column: str, kind: type[T]) -> T:
    value = row[column]
    if not isinstance(value, kind):
        raise PermanentError(f"column {column} came back as {type(value).__name__}")
    return value


def _candidates(table: OdTable, rows: list[dict[str, object]]) -> list[Candidate]:
    return [
        Candidate(
            table=table,
            primary_key=_typed(row, "PrimaryKey", int),
            pat_num=_typed(row, "PatNum", int),
            created_at=_typed(row, "CreatedAt", datetime),
            securitylog_num=None if row["SecurityLogNum"] is None
            else _typed(row, "SecurityLogNum", int),
        )
        for row in rows
    ]


def _create_log_join(alias: str, key: str) -> str:
    """The LEFT JOIN to the API's create entry for the row; params: perm type, window start."""
    return (
        f" LEFT JOIN securitylog s ON s.FKey = {alias}.{key} AND s.LogSource = {LOG_SOURCE_API}"
        " AND s.PermType = %s AND s.LogDateTime >= %s"
    )


async def _find(
    db: ReadOnlyDatabase, table: OdTable, sql: str, params: Sequence[object]
) -> list[Candidate]:
    return _candidates(table, await db.select(f"reconcile_{table.value}", sql, params))


async def find_created_patients(
    db: ReadOnlyDatabase, *, since: datetime, last_name: str, first_name: str,
    birthdate: date | None, clock_skew: timedelta = CLOCK_SKEW,
) -> list[Candidate]:
    """Patients named LName/FName (and born on ``birthdate`` when given) entered since."""
    start = _window_start(since, clock_skew)
    birthdate_sql = " AND p.Birthdate = %s" if birthdate is not None else ""
    sql = (
        "SELECT p.PatNum AS PrimaryKey, p.PatNum, p.DateTStamp AS CreatedAt,"
        " MIN(s.SecurityLogNum) AS SecurityLogNum FROM patient p"
        + _create_log_join("p", "PatNum")
        + " WHERE p.LName = %s AND p.FName = %s" + birthdate_sql
        + " AND p.SecDateEntry >= %s AND p.DateTStamp >= %s"
        " GROUP BY p.PatNum, p.DateTStamp ORDER BY p.PatNum"
    )
    params: list[object] = [PermType.PatientCreate.value, start, last_name, first_name]
    params += [birthdate] if birthdate is not None else []
    params += [start.date(), start]
    return await _find(db, OdTable.PATIENT, sql, params)


async def find_created_appointments(
    db: ReadOnlyDatabase, *, since: datetime, pat_num: int, apt_date_time: datetime, op: int,
    clock_skew: timedelta = CLOCK_SKEW,
) -> list[Candidate]:
    """The patient's appointments at ``apt_date_time`` in operatory ``op`` entered since."""
    start = _window_start(since, clock_skew)
    sql = (
        "SELECT a.AptNum AS PrimaryKey, a.PatNum, a.SecDateTEntry AS CreatedAt,"
        " MIN(s.SecurityLogNum) AS SecurityLogNum FROM appointment a"
        + _create_log_join("a", "AptNum")
        + " WHERE a.PatNum = %s AND a.AptDateTime = %s AND a.Op = %s AND a.SecDateTEntry >= %s"
        " GROUP BY a.AptNum, a.PatNum, a.SecDateTEntry ORDER BY a.AptNum"
    )
    params = [PermType.AppointmentCreate.value, start, pat_num, apt_date_time, op, start]
    return await _find(db, OdTable.APPOINTMENT, sql, params)


async def find_created_commlogs(
    db: ReadOnlyDatabase, *, since: datetime, pat_num: int, note: str,
    comm_date_time: datetime | None, clock_skew: timedelta = CLOCK_SKEW,
) -> list[Candidate]:
    """The patient's commlogs with exactly this note (and CommDateTime when given) entered since.

    The note is compared byte for byte: the database keeps it as sent (only the API's output
    flattens line breaks), and the collation would ignore case and trailing spaces."""
    start = _window_start(since, clock_skew)
    when_sql = " AND c.CommDateTime = %s" if comm_date_time is not None else ""
    sql = (
        "SELECT c.CommlogNum AS PrimaryKey, c.PatNum, c.DateTEntry AS CreatedAt,"
        " MIN(s.SecurityLogNum) AS SecurityLogNum FROM commlog c"
        + _create_log_join("c", "CommlogNum")
        + " WHERE c.PatNum = %s" + when_sql
        + " AND c.DateTEntry >= %s AND CAST(c.Note AS BINARY) = CAST(%s AS BINARY)"
        " GROUP BY c.CommlogNum, c.PatNum, c.DateTEntry ORDER BY c.CommlogNum"
    )
    params: list[object] = [PermType.CommlogCreate.value, start, pat_num]
    params += [comm_date_time] if comm_date_time is not None else []
    params += [start, note]
    return await _find(db, OdTable.COMMLOG, sql, params)


async def find_created_payments(
    db: ReadOnlyDatabase, *, since: datetime, pat_num: int, pay_amt: Decimal | float,
    pay_date: date | None, clock_skew: timedelta = CLOCK_SKEW,
) -> list[Candidate]:
    """The patient's API payments of ``pay_amt`` (within half a cent; and on ``pay_date`` when
    given) entered since."""
    start = _window_start(since, clock_skew)
    date_sql = " AND p.PayDate = %s" if pay_date is not None else ""
    sql = (
        "SELECT p.PayNum AS PrimaryKey, p.PatNum, p.SecDateTEdit AS CreatedAt,"
        " MIN(s.SecurityLogNum) AS SecurityLogNum FROM payment p"
        + _create_log_join("p", "PayNum")
        + f" WHERE p.PatNum = %s AND p.PaymentSource = {PAYMENT_SOURCE_API}"
        " AND ABS(p.PayAmt - %s) < %s" + date_sql
        + " AND p.DateEntry >= %s AND p.SecDateTEdit >= %s"
        " GROUP BY p.PayNum, p.PatNum, p.SecDateTEdit ORDER BY p.PayNum"
    )
    params: list[object] = [PermType.PaymentCreate.value, start, pat_num, pay_amt]
    params += [PAY_AMT_TOLERANCE]
    params += [pay_date] if pay_date is not None else []
    params += [start.date(), start]
    return await _find(db, OdTable.PAYMENT, sql, params)


@dataclass(frozen=True, kw_only=True)
class DocumentKeys:
    """What an upload's row keeps of its request: all but the file, which the row does not hold
    (``FileName`` is Open Dental's own; ``RawBase64`` is empty where images live in a folder)."""

    extension: str
    description: str | None
    doc_category: int | None
    img_type: int | None  # ImageType's stored number
    date_created: datetime | None


async def find_created_documents(
    db: ReadOnlyDatabase, *, since: datetime, pat_num: int, keys: DocumentKeys,
    clock_skew: timedelta = CLOCK_SKEW,
) -> list[Candidate]:
    """The patient's documents whose file name ends in the extension, with each field the
    upload sent (the Description byte for byte), changed since.

    Open Dental names an uploaded file after the patient, the DocNum and the extension, and
    keeps no creation stamp of its own besides DateTStamp; a field left out took Open Dental's
    default, so it is left out of the lookup too."""
    start = _window_start(since, clock_skew)
    sql = (
        "SELECT d.DocNum AS PrimaryKey, d.PatNum, d.DateTStamp AS CreatedAt,"
        " MIN(s.SecurityLogNum) AS SecurityLogNum FROM document d"
        + _create_log_join("d", "DocNum")
        + " WHERE d.PatNum = %s AND d.DateTStamp >= %s"
        " AND RIGHT(d.FileName, %s) = %s"
    )
    params: list[object] = [PermType.ImageCreate.value, start, pat_num, start]
    params += [len(keys.extension), keys.extension]
    if keys.description is not None:
        sql += " AND CAST(d.Description AS BINARY) = CAST(%s AS BINARY)"
        params.append(keys.description)
    for column, value in (("DocCategory", keys.doc_category), ("ImgType", keys.img_type),
                          ("DateCreated", keys.date_created)):
        if value is not None:
            sql += f" AND d.{column} = %s"
            params.append(value)
    sql += " GROUP BY d.DocNum, d.PatNum, d.DateTStamp ORDER BY d.DocNum"
    return await _find(db, OdTable.DOCUMENT, sql, params)


async def securitylog_for_row(
    db: ReadOnlyDatabase, table: OdTable, primary_key: int
) -> list[SecurityLogEntry]:
    """The API's audit entries about one row, newest first (for ``hub trace --od``)."""
    perm_types = PERM_TYPES_OF[table]
    marks = ", ".join(["%s"] * len(perm_types))
    sql = (
        "SELECT SecurityLogNum, LogDateTime, PermType, LogText, UserNum FROM securitylog"
        f" WHERE FKey = %s AND LogSource = {LOG_SOURCE_API} AND PermType IN ({marks})"
        " ORDER BY LogDateTime DESC, SecurityLogNum DESC"
    )
    rows = await db.select(
        f"securitylog_{table.value}", sql, [primary_key, *(p.value for p in perm_types)]
    )
    return [
        SecurityLogEntry(
            securitylog_num=_typed(row, "SecurityLogNum", int),
            log_datetime=_typed(row, "LogDateTime", datetime),
            perm_type=PermType(_typed(row, "PermType", int)).name,
            log_text=_typed(row, "LogText", str),
            user_num=_typed(row, "UserNum", int),
        )
        for row in rows
    ]
