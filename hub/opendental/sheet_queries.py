"""Read-only SQL for a sheet.fill in doubt: was the sheet made, and was a field set?

A sheet's natural key is its patient, its definition and when it was made: Sheets POST stamps
``DateTimeSheet`` with the office's local time, and copies the definition's fields with their
default values. A sheet of that patient and definition made since the attempt began (less the
clock skew), not deleted, is a candidate; the hub then leaves out those the ledger credits to
another intent (hub/reconcile/sheets.py). A field is read by its own key: its value now is
compared with the value the fill wanted and the value it was made with.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.errors import PermanentError
from hub.opendental.readonly_sql import ReadOnlyDatabase

CLOCK_SKEW = timedelta(seconds=2)


async def find_made_sheets(
    db: ReadOnlyDatabase, *, since: datetime, pat_num: int, sheet_def_num: int,
    clock_skew: timedelta = CLOCK_SKEW,
) -> list[int]:
    """The SheetNums of the patient's sheets of this definition made since ``since`` (the
    office's local time, naive)."""
    if since.tzinfo is not None:
        raise ValueError("since is the office's local time, without a zone")
    start = (since - clock_skew).replace(microsecond=0)
    rows = await db.select(
        "reconcile_sheet",
        "SELECT SheetNum FROM sheet WHERE PatNum = %s AND SheetDefNum = %s"
        " AND DateTimeSheet >= %s AND IsDeleted = 0 ORDER BY SheetNum",
        [pat_num, sheet_def_num, start],
    )
    return [_int(row, "SheetNum") for row in rows]


async def field_value(db: ReadOnlyDatabase, *, sheet_num: int, sheet_field_num: int) -> str:
    """The field's FieldValue now; the field must belong to the sheet."""
    rows = await db.select(
        "reconcile_sheetfield",
        "SELECT FieldValue FROM sheetfield WHERE SheetFieldNum = %s AND SheetNum = %s",
        [sheet_field_num, sheet_num],
    )
    if len(rows) != 1:
        raise PermanentError(f"sheetfield {sheet_field_num} of sheet {sheet_num} is gone")
    value = rows[0]["FieldValue"]
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str):
        raise PermanentError("column FieldValue came back as " + type(value).__name__)
    return value


def _int(row: dict[str, object], column: str) -> int:
    value = row[column]
    if not isinstance(value, int):
        raise PermanentError(f"column {column} came back as {type(value).__name__}")
    return value
