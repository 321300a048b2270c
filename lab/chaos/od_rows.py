"""The run's rows in Open Dental's own tables, read through ``ReadOnlyDatabase`` (the hub's only
door to an office database: the SELECT-only user, read-only sessions, a statement timeout).

Every row of the run hangs off a patient with the run's surname. Each row is given by its
natural key: the patient's (database, FName, Birthdate), plus AptDateTime and Op for an
appointment, Note for a commlog, PayAmt and PayDate for a payment, Description for a document,
Reaction for an allergy, PatNote for a medication or a problem, FieldName and FieldValue for a
patient's field, SheetDefNum for a sheet;
and by the PatNum it hangs off, since Open Dental counts a duplicate appointment, note, payment
or document per patient row.

Two reads are not natural keys: a sheet's fields (``SHEET_FIELDS``: SheetDefNum, FieldName and
FieldValue), and ``FIELD_SETS``, Open Dental's securitylog entry for each SheetFields PUT (the
SheetFieldNum set, as its FKey), which tells a field set twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.settings import MySqlSettings

SQL_TIMEOUT_S = 30.0
STATE = "appointment_state"
SHEET_FIELDS = "sheetfield"
FIELD_SETS = "sheetfield_set"
_OF_RUN = "JOIN patient p ON p.PatNum = {t}.PatNum WHERE p.LName = %s"
QUERIES = {
    "patient": "SELECT p.PatNum, p.PatNum AS owner, p.Address AS detail FROM patient p"
    " WHERE p.LName = %s",
    "appointment": "SELECT a.AptNum, a.PatNum AS owner, a.AptDateTime, a.Op FROM appointment a "
    + _OF_RUN.format(t="a"),
    "commlog": "SELECT c.CommlogNum, c.PatNum AS owner, c.Note FROM commlog c "
    + _OF_RUN.format(t="c"),
    "payment": "SELECT y.PayNum, y.PatNum AS owner, y.PayAmt, y.PayDate FROM payment y "
    + _OF_RUN.format(t="y"),
    "document": "SELECT d.DocNum, d.PatNum AS owner, d.Description FROM document d "
    + _OF_RUN.format(t="d"),
    # Not a natural key: what the changes of an appointment left (its Pattern and Note).
    STATE: "SELECT a.AptNum, a.PatNum AS owner, a.Pattern, a.Note FROM appointment a "
    + _OF_RUN.format(t="a"),
    "allergy": "SELECT r.AllergyNum, r.PatNum AS owner, r.Reaction FROM allergy r "
    + _OF_RUN.format(t="r"),
    "medicationpat": "SELECT m.MedicationPatNum, m.PatNum AS owner, m.PatNote"
    " FROM medicationpat m " + _OF_RUN.format(t="m"),
    "disease": "SELECT s.DiseaseNum, s.PatNum AS owner, s.PatNote FROM disease s "
    + _OF_RUN.format(t="s"),
    "patfield": "SELECT f.PatFieldNum, f.PatNum AS owner, f.FieldName, f.FieldValue"
    " FROM patfield f " + _OF_RUN.format(t="f"),
    "sheet": "SELECT s.SheetNum, s.PatNum AS owner, s.SheetDefNum FROM sheet s "
    + _OF_RUN.format(t="s"),
    SHEET_FIELDS: "SELECT f.SheetFieldNum, s.PatNum AS owner, s.SheetDefNum, f.FieldName,"
    " f.FieldValue FROM sheetfield f JOIN sheet s ON s.SheetNum = f.SheetNum "
    + _OF_RUN.format(t="s"),
    # What odsim/handlers/sheets.py (as Open Dental) logs for each SheetFields PUT it applied.
    FIELD_SETS: "SELECT l.SecurityLogNum, l.PatNum AS owner, l.FKey FROM securitylog l "
    + _OF_RUN.format(t="l") + " AND l.LogText LIKE 'SheetField updated %%'",
}
PATIENTS = "SELECT p.PatNum, p.FName, p.Birthdate FROM patient p WHERE p.LName = %s"

PersonKey = tuple[str, str, str]  # (database, FName, Birthdate)


@dataclass(frozen=True, kw_only=True)
class OdRow:
    table: str
    database: str
    pat_num: int  # the patient row it hangs off (a patient's own PatNum)
    person: PersonKey
    detail: tuple[str, ...]  # the row's own natural key; a patient's Address

    @property
    def natural_key(self) -> tuple[str, ...]:
        return (self.table, *self.person, *self.detail)


class _NoMetrics:
    def on_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        """The chaos run counts no query metrics."""


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


async def _rows(db: ReadOnlyDatabase, database: str, surname: str) -> list[OdRow]:
    people = {
        int(str(row["PatNum"])): (database, _text(row["FName"]), _text(row["Birthdate"]))
        for row in await db.select("chaos_patients", PATIENTS, (surname,))
    }
    rows = []
    for table, sql in QUERIES.items():
        for row in await db.select(f"chaos_{table}_rows", sql, (surname,)):
            owner = int(str(row["owner"]))
            values = [_text(value) for name, value in row.items() if name not in ("owner",)]
            rows.append(OdRow(table=table, database=database, pat_num=owner,
                              person=people[owner], detail=tuple(values[1:])))
    return rows


async def run_rows(readonly: MySqlSettings, databases: Sequence[str], surname: str) -> list[OdRow]:
    """Every row of the run, in every office database."""
    rows: list[OdRow] = []
    for database in databases:
        account = readonly.model_copy(update={"database": database})
        async with ReadOnlyDatabase.open(
            account, timeout_s=SQL_TIMEOUT_S, max_concurrent=1, observer=_NoMetrics()
        ) as db:
            rows += await _rows(db, database, surname)
    return rows
