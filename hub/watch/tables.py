"""The tables the watch follows and the read-only SQL it runs on an office's database.

Every statement goes through ``ReadOnlyDatabase`` (DESIGN.md invariant 5) and is bounded: a scan
reads at most ``batch`` rows in the order of an index on the table's change stamp, a read after
an event reads one row by its primary key, and the securitylog is read by ``FKey`` (indexed).

Only tables whose stamp column is the first column of an index in the office's database are
scanned (``office_tables`` asks ``information_schema``, which shows a SELECT-only user the
tables it may read): Open Dental indexes DateTStamp on patient, appointment, commlog, document
and the clinical lists, but its schema documentation shows no index on payment.SecDateTEdit or
patfield.SecDateTEdit, so without one those two are not scanned (a warning says so at start;
patfield changes still arrive as API Subscriptions events). sheet and sheetfield have no change
stamp at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import PERM_TYPES_OF, OdTable, PermType

EPOCH_COLUMN = "_watch_epoch"  # the stamp in UTC seconds, as the office's server converts it


@dataclass(frozen=True, kw_only=True)
class WatchedTable:
    table: OdTable
    key: str  # the primary key column
    stamp: str  # the change stamp MariaDB keeps current on every insert and update
    # The columns Open Dental's SecurityHash covers (opendental-api.md §5.2): a change of one
    # of them with the hash left as it was is a direct write that Open Dental would flag.
    hashed: tuple[str, ...] = ()
    # What a read selects: every column, large ones as their SHA-256 (``select_list``).
    select: str = "*"
    # Whether the office's database indexes the stamp: only then is the table scanned (a row an
    # event names is read by its primary key either way).
    scanned: bool = False


HASH_COLUMN = "SecurityHash"
WATCHED: dict[OdTable, WatchedTable] = {
    t.table: t for t in (
        WatchedTable(table=OdTable.PATIENT, key="PatNum", stamp="DateTStamp",
                     hashed=("PatNum", "PatStatus", "Birthdate")),
        WatchedTable(table=OdTable.APPOINTMENT, key="AptNum", stamp="DateTStamp",
                     hashed=("AptStatus", "Confirmed", "AptDateTime")),
        WatchedTable(table=OdTable.COMMLOG, key="CommlogNum", stamp="DateTStamp"),
        WatchedTable(table=OdTable.PAYMENT, key="PayNum", stamp="SecDateTEdit"),
        WatchedTable(table=OdTable.DOCUMENT, key="DocNum", stamp="DateTStamp"),
        WatchedTable(table=OdTable.PATFIELD, key="PatFieldNum", stamp="SecDateTEdit"),
        WatchedTable(table=OdTable.ALLERGY, key="AllergyNum", stamp="DateTStamp"),
        WatchedTable(table=OdTable.MEDICATIONPAT, key="MedicationPatNum", stamp="DateTStamp"),
        WatchedTable(table=OdTable.DISEASE, key="DiseaseNum", stamp="DateTStamp"),
    )
}

def side_effect_only(table: OdTable, columns: Sequence[str] | None) -> bool:
    """Whether a change touched nothing but columns another table's write may set
    (``SIDE_EFFECTS``); ``columns`` None: the row is new to the watch, which knows no change."""
    effect = SIDE_EFFECTS.get(table)
    return effect is not None and bool(columns) and set(columns or ()) <= effect.columns


_STAMP_INDEXES = (
    "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS"
    " WHERE TABLE_SCHEMA = DATABASE() AND SEQ_IN_INDEX = 1 AND TABLE_NAME IN ({marks})"
)


_COLUMNS = (
    "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks}) ORDER BY ORDINAL_POSITION"
)
# Columns that may hold megabytes (document.RawBase64, a whole image): a scan reads their SHA-256
# instead, computed by the server, which is all a digest needs.
LARGE_TYPES = frozenset({"mediumtext", "longtext", "mediumblob", "longblob"})


def select_list(columns: Sequence[tuple[str, str]]) -> str:
    """The scan's select list from (column, data type) pairs."""
    return ", ".join(
        f"SHA2(`{name}`, 256) AS `{name}`" if kind.lower() in LARGE_TYPES else f"`{name}`"
        for name, kind in columns
    )


async def office_tables(db: ReadOnlyDatabase) -> list[WatchedTable]:
    """The watched tables this database has, each with the select list of its columns and
    ``scanned`` when its stamp leads an index (only then may a scan read it)."""
    names = [t.table.value for t in WATCHED.values()]
    marks = ", ".join(["%s"] * len(names))
    rows = await db.select("watch_indexes", _STAMP_INDEXES.format(marks=marks), names)
    leading = {(str(row["TABLE_NAME"]).lower(), str(row["COLUMN_NAME"])) for row in rows}
    described = await db.select("watch_columns", _COLUMNS.format(marks=marks), names)
    columns: dict[str, list[tuple[str, str]]] = {}
    for row in described:
        columns.setdefault(str(row["TABLE_NAME"]).lower(), []).append(
            (str(row["COLUMN_NAME"]), str(row["DATA_TYPE"]))
        )
    return [
        replace(t, select=select_list(columns[t.table.value]),
                scanned=(t.table.value, t.stamp) in leading)
        for t in WATCHED.values()
        if t.table.value in columns
    ]


def scan_sql(table: WatchedTable, batch: int) -> str:
    """Rows changed after the cursor (stamp, key), oldest first (the cursor's own second is read
    again when its key is 0: hub/watch/scanner.py). The range on the stamp keeps the read on the
    stamp's index (tests/watch EXPLAIN it)."""
    t, k, s = table.table.value, table.key, table.stamp
    return (
        f"SELECT {table.select}, UNIX_TIMESTAMP(`{s}`) AS {EPOCH_COLUMN} FROM `{t}`"
        f" WHERE `{s}` >= %s AND (`{s}` > %s OR `{k}` > %s)"
        f" ORDER BY `{s}`, `{k}` LIMIT {int(batch)}"
    )


async def scan(
    db: ReadOnlyDatabase, table: WatchedTable, stamp: datetime, last_key: int, batch: int
) -> list[dict[str, object]]:
    return await db.select(
        f"watch_scan_{table.table.value}", scan_sql(table, batch), [stamp, stamp, last_key]
    )


def row_sql(table: WatchedTable, keys: int = 1) -> str:
    t, k, s = table.table.value, table.key, table.stamp
    marks = ", ".join(["%s"] * keys)
    return (
        f"SELECT {table.select}, UNIX_TIMESTAMP(`{s}`) AS {EPOCH_COLUMN} FROM `{t}`"
        f" FORCE INDEX (PRIMARY) WHERE `{k}` IN ({marks})"  # a small table is no excuse
    )


async def read_row(db: ReadOnlyDatabase, table: WatchedTable, key: int) -> dict[str, object] | None:
    """One row by its primary key (after an event named it); None if it is gone."""
    return (await read_rows(db, table, [key])).get(key)


async def read_rows(
    db: ReadOnlyDatabase, table: WatchedTable, keys: Sequence[int]
) -> dict[int, dict[str, object]]:
    """Rows by primary key, in one query; a row that is gone is missing."""
    if not keys:
        return {}
    rows = await db.select(f"watch_row_{table.table.value}", row_sql(table, len(keys)), keys)
    return {int(str(row[table.key])): row for row in rows}


async def office_now(db: ReadOnlyDatabase) -> datetime:
    """The office server's local time: where a first scan of a table starts."""
    rows = await db.select("watch_now", "SELECT NOW() AS now", [])
    now = rows[0]["now"]
    assert isinstance(now, datetime)
    return now


async def own_dev_name(db: ReadOnlyDatabase, customer_key: str) -> str | None:
    """The DevName Open Dental writes in the securitylog for the hub's writes at this office:
    the apikey row of the office's customer key (opendental-api.md §7)."""
    rows = await db.select(
        "watch_apikey", "SELECT DevName FROM apikey WHERE CustApiKey = %s LIMIT 1", [customer_key]
    )
    return str(rows[0]["DevName"]) if rows else None


@dataclass(frozen=True, kw_only=True)
class LogRow:
    """One securitylog row about a watched row, of any source (not only the API's)."""

    securitylog_num: int
    perm_type: int
    log_source: int
    user_num: int
    log_text: str
    log_datetime: datetime  # office local
    logged_at_epoch: float | None  # UTC seconds as the office server converts it
    # The row the log is about (FKey), when it is another table's row whose write also wrote
    # the watched row (``SIDE_EFFECTS``); None: the watched row itself.
    about: tuple[OdTable, int] | None = None


@dataclass(frozen=True, kw_only=True)
class SideEffect:
    """Columns of a watched row that Open Dental writes along with a row of another table, with
    no log of the watched row's own: only that row's log (its ``PatNum`` the watched row)
    explains them."""

    columns: frozenset[str]
    table: OdTable  # the other row's table: the log's FKey is its key
    perms: tuple[PermType, ...]


# Booking a new patient's appointment (IsNewPatient) also sets the patient's DateFirstVisit, as
# the simulator does; the only log is the appointment's (FKey the AptNum, PatNum the patient).
SIDE_EFFECTS: dict[OdTable, SideEffect] = {
    OdTable.PATIENT: SideEffect(
        columns=frozenset({"DateFirstVisit"}), table=OdTable.APPOINTMENT,
        perms=(PermType.AppointmentCreate,),
    ),
}


_LOG_SQL = (
    "SELECT SecurityLogNum, PermType, LogSource, UserNum, LogText, LogDateTime, FKey, PatNum,"
    " UNIX_TIMESTAMP(LogDateTime) AS Epoch FROM securitylog"
    " WHERE {column} IN ({keys}) AND PermType IN ({perms})"
)  # no ORDER BY: sorted here, so the server's only choice is the FKey (or PatNum) index


def securitylog_sql(table: OdTable, keys: int = 1) -> tuple[str, list[int]]:
    """The statement reading the securitylog of ``keys`` rows, and its PermType parameters
    (after the keys)."""
    return _log_sql("FKey", PERM_TYPES_OF[table], keys)


def side_log_sql(effect: SideEffect, keys: int = 1) -> tuple[str, list[int]]:
    """The statement reading the other table's logs naming ``keys`` watched rows by PatNum."""
    return _log_sql("PatNum", effect.perms, keys)


def _log_sql(column: str, perm_types: Sequence[PermType], keys: int) -> tuple[str, list[int]]:
    perms = [p.value for p in perm_types]
    sql = _LOG_SQL.format(column=column, keys=", ".join(["%s"] * keys),
                          perms=", ".join(["%s"] * len(perms)))
    return sql, perms


async def securitylogs_of(
    db: ReadOnlyDatabase, table: OdTable, keys: Sequence[int], side_keys: Sequence[int] = ()
) -> dict[int, list[LogRow]]:
    """Every securitylog row about each of the rows, oldest first, in one query on FKey
    (indexed): one query per page of changed rows, not one per row. For ``side_keys`` (rows
    whose change may be a side effect: ``SIDE_EFFECTS``), also the other table's logs naming
    them, in one more query on PatNum (indexed)."""
    if not keys:
        return {}
    sql, perms = securitylog_sql(table, len(keys))
    rows = await db.select(f"watch_log_{table.value}", sql, [*keys, *perms])
    logs: dict[int, list[LogRow]] = {key: [] for key in keys}
    for row in rows:
        logs.setdefault(int(str(row["FKey"])), []).append(_log_row(row, None))
    effect = SIDE_EFFECTS.get(table)
    if effect is not None and side_keys:
        sql, perms = side_log_sql(effect, len(side_keys))
        for row in await db.select(f"watch_side_log_{table.value}", sql, [*side_keys, *perms]):
            about = (effect.table, int(str(row["FKey"])))
            logs.setdefault(int(str(row["PatNum"])), []).append(_log_row(row, about))
    for each in logs.values():
        each.sort(key=lambda log: log.securitylog_num)
    return logs


def _log_row(row: dict[str, object], about: tuple[OdTable, int] | None) -> LogRow:
    return LogRow(
        securitylog_num=int(str(row["SecurityLogNum"])), perm_type=int(str(row["PermType"])),
        log_source=int(str(row["LogSource"])), user_num=int(str(row["UserNum"])),
        log_text=str(row["LogText"]), log_datetime=_datetime(row["LogDateTime"]),
        logged_at_epoch=None if row["Epoch"] is None else float(str(row["Epoch"])), about=about,
    )


def _datetime(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value
