"""The watch's tables in the hub database (ledger migration 16): cursors, rows' digests, changes.

Times the hub keeps are UTC (``changed_at``, ``recorded_at``, ``seen_at``); ``stamp`` is the
office's own local DateTStamp, kept as the office stores it because the cursor and the
securitylog are compared with it on the office's clock. A change is unique per (office, table,
key, stamp, row digest): a scan and an event that both saw it record it once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hub.ledger.mysql_rows import from_db, to_db
from hub.ledger.mysql_session import MySqlSession, Record, ignore_query
from hub.ledger.port import QueryObserver
from hub.opendental.reconcile_queries import OdTable
from hub.settings import MySqlSettings
from hub.watch.model import Attribution, Door, SeenRow, Source

PURGE_BATCH = 5000  # rows deleted per statement, so a purge never holds long locks
MAX_DEV_NAME_CHARS = 255

_KEY_GET = "SELECT digest_key FROM watch_digest_key WHERE id = 1"
# ON DUPLICATE KEY UPDATE id = id: keep the row there, with no warning (INSERT IGNORE warns).
_KEY_PUT = (
    "INSERT INTO watch_digest_key (id, digest_key) VALUES (1, %s) ON DUPLICATE KEY UPDATE id = id"
)
_CURSOR_GET = "SELECT stamp, last_key FROM watch_cursors WHERE office_id = %s AND od_table = %s"
_CURSOR_PUT = """
INSERT INTO watch_cursors (office_id, od_table, stamp, last_key, updated_at)
VALUES (%s, %s, %s, %s, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE stamp = VALUES(stamp), last_key = VALUES(last_key),
    updated_at = VALUES(updated_at)
"""
_ROWS_GET = """
SELECT od_key, stamp, digests, last_log FROM watch_rows
WHERE office_id = %s AND od_table = %s AND od_key IN ({marks})
"""
_ROW_PUT = """
INSERT INTO watch_rows (office_id, od_table, od_key, stamp, digests, last_log, seen_at)
VALUES (%s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE stamp = VALUES(stamp), digests = VALUES(digests),
    last_log = GREATEST(COALESCE(last_log, 0), COALESCE(VALUES(last_log), 0)),
    seen_at = VALUES(seen_at)
"""
_CHANGE_PUT = """
INSERT INTO watch_changes (office_id, od_table, od_key, stamp, row_digest, changed_at,
    door, vendor, intent_id, user_num, dev_name, securitylog_num, stale_hash, first_seen,
    columns_changed, source, intent_pending, recorded_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE id = id
"""
_CHANGE_COLUMNS = (
    "office_id, od_table, od_key, stamp, row_digest, changed_at, door, vendor, intent_id, user_num,"
    " dev_name, securitylog_num, stale_hash, first_seen, columns_changed, source, intent_pending"
)
_CHANGES = (
    f"SELECT {_CHANGE_COLUMNS} FROM watch_changes WHERE office_id = %s AND changed_at >= %s"
    "{door} ORDER BY changed_at, id LIMIT %s"
)
_ROW_CHANGES = (
    f"SELECT {_CHANGE_COLUMNS} FROM watch_changes"
    " WHERE office_id = %s AND od_table = %s AND od_key = %s ORDER BY stamp, id"
)
# Least recently asked first (NULL, never asked, sorts first): stuck ones never starve the rest.
# A change is asked again once a tenth of its age has passed since it was last asked (at least
# every pass while young): one waiting for days costs a few dozen questions, not thousands.
_PENDING = (
    f"SELECT id, {_CHANGE_COLUMNS}, recorded_at FROM watch_changes"
    " WHERE office_id = %s AND intent_pending AND (checked_at IS NULL OR checked_at <"
    " UTC_TIMESTAMP(6) - INTERVAL TIMESTAMPDIFF(SECOND, recorded_at, UTC_TIMESTAMP(6)) DIV 10"
    " SECOND) ORDER BY checked_at LIMIT %s"
)
_SETTLE = (
    "UPDATE watch_changes SET vendor = %s, intent_id = %s, intent_pending = FALSE,"
    " checked_at = UTC_TIMESTAMP(6) WHERE id = %s AND intent_pending"
)
_ASKED = "UPDATE watch_changes SET checked_at = UTC_TIMESTAMP(6) WHERE id IN ({marks})"
_PURGE_CHANGES = "DELETE FROM watch_changes WHERE recorded_at < %s LIMIT %s"
_PURGE_ROWS = "DELETE FROM watch_rows WHERE seen_at < %s LIMIT %s"


@dataclass(frozen=True, kw_only=True)
class Cursor:
    stamp: datetime  # office local
    last_key: int


@dataclass(frozen=True, kw_only=True)
class PendingChange:
    """A recorded change given to the hub's key whose intent the ledger did not know yet."""

    id: int
    change: Attribution
    recorded_at: datetime  # UTC


@dataclass(frozen=True, kw_only=True)
class RowState:
    stamp: datetime
    digests: dict[str, str]
    last_log: int | None = None  # the last securitylog row that explained a change of the row


def _attribution(record: Record) -> Attribution:
    columns = record["columns_changed"]
    return Attribution(
        office_id=record["office_id"], table=OdTable(record["od_table"]), key=record["od_key"],
        door=Door(record["door"]), columns=tuple(json.loads(columns)),
        time=from_db(record["changed_at"]), stamp=record["stamp"],
        row_digest=record["row_digest"], vendor=record["vendor"],
        intent_id=record["intent_id"], user_num=record["user_num"], dev_name=record["dev_name"],
        securitylog_num=record["securitylog_num"], stale_hash=bool(record["stale_hash"]),
        first_seen=bool(record["first_seen"]), source=Source(record["source"]),
        intent_pending=bool(record["intent_pending"]),
    )


class WatchStore:
    """The watch's hub-database tables over one small pool."""

    def __init__(self, session: MySqlSession) -> None:
        self._session = session

    @classmethod
    async def open(
        cls, settings: MySqlSettings, *, on_query: QueryObserver = ignore_query,
        max_connections: int = 4,
    ) -> WatchStore:
        return cls(
            await MySqlSession.open(settings, on_query=on_query, max_connections=max_connections)
        )

    async def close(self) -> None:
        await self._session.close()

    async def digest_key(self) -> bytes:
        """The digests' key: made here by the first watch, read by every later one."""
        async with self._session.autocommit("reading the watch's digest key") as db:
            await db.execute("watch.key_put", _KEY_PUT, (secrets.token_hex(32),))
            row = await db.fetch_one("watch.key_get", _KEY_GET)
        assert row is not None
        return bytes.fromhex(row["digest_key"])

    async def cursor(self, office_id: str, table: OdTable) -> Cursor | None:
        async with self._session.autocommit("reading a watch cursor") as db:
            row = await db.fetch_one("watch.cursor_get", _CURSOR_GET, (office_id, table.value))
        return None if row is None else Cursor(stamp=row["stamp"], last_key=row["last_key"])

    async def save_cursor(self, office_id: str, table: OdTable, cursor: Cursor) -> None:
        async with self._session.autocommit("saving a watch cursor") as db:
            args = (office_id, table.value, cursor.stamp, cursor.last_key)
            await db.execute("watch.cursor_put", _CURSOR_PUT, args)

    async def states(
        self, office_id: str, table: OdTable, keys: Sequence[int]
    ) -> dict[int, RowState]:
        if not keys:
            return {}
        sql = _ROWS_GET.format(marks=", ".join(["%s"] * len(keys)))
        async with self._session.autocommit("reading watched rows") as db:
            rows = await db.fetch_all("watch.rows_get", sql, (office_id, table.value, *keys))
        return {
            row["od_key"]: RowState(
                stamp=row["stamp"], digests=json.loads(row["digests"]), last_log=row["last_log"]
            )
            for row in rows
        }

    async def record(self, seen: SeenRow, attribution: Attribution) -> bool:
        """The row's new state and its change, in one transaction; False if that change was
        recorded already (a scan and an event both saw it)."""
        async with self._session.transaction("recording a change") as db:
            inserted = await db.execute("watch.change_put", _CHANGE_PUT, _change_args(attribution))
            row_args = (
                seen.office_id, seen.table.value, seen.key, seen.stamp,
                json.dumps(seen.digests, sort_keys=True, separators=(",", ":")),
                attribution.securitylog_num,
            )
            await db.execute("watch.row_put", _ROW_PUT, row_args)
        return inserted == 1

    async def changes(
        self, office_id: str, since: datetime, door: Door | None = None, limit: int = 10000
    ) -> list[Attribution]:
        """The office's changes since ``since`` (UTC), oldest first, of one door or all."""
        args: list[object] = [office_id, to_db(since)]
        door_sql = ""
        if door is not None:
            door_sql, args = " AND door = %s", [*args, door.value]
        async with self._session.autocommit("reading changes") as db:
            rows = await db.fetch_all(
                "watch.changes", _CHANGES.format(door=door_sql), (*args, limit)
            )
        return [_attribution(row) for row in rows]

    async def row_changes(self, office_id: str, table: OdTable, key: int) -> list[Attribution]:
        """Every recorded change of one row, oldest first."""
        async with self._session.autocommit("reading a row's changes") as db:
            rows = await db.fetch_all(
                "watch.row_changes", _ROW_CHANGES, (office_id, table.value, key)
            )
        return [_attribution(row) for row in rows]

    async def pending(self, office_id: str, limit: int) -> list[PendingChange]:
        """The office's changes waiting for their intent, least recently asked first."""
        async with self._session.autocommit("reading changes waiting for their intent") as db:
            rows = await db.fetch_all("watch.pending", _PENDING, (office_id, limit))
        return [
            PendingChange(id=row["id"], change=_attribution(row),
                          recorded_at=from_db(row["recorded_at"]))
            for row in rows
        ]

    async def settle(self, pending: PendingChange, intent: tuple[str, int] | None) -> Attribution:
        """The change's intent found (or, given None, no longer waited for): it is told now."""
        vendor, intent_id = intent if intent else (None, None)
        async with self._session.autocommit("settling a change's intent") as db:
            await db.execute("watch.settle", _SETTLE, (vendor, intent_id, pending.id))
        return replace(pending.change, vendor=vendor, intent_id=intent_id, intent_pending=False)

    async def asked(self, pending: Sequence[PendingChange]) -> None:
        """Those changes were asked about again, in vain for now."""
        if not pending:
            return
        sql = _ASKED.format(marks=", ".join(["%s"] * len(pending)))
        async with self._session.autocommit("noting changes asked about") as db:
            await db.execute("watch.asked", sql, tuple(one.id for one in pending))

    async def purge(self, retention: timedelta, now: datetime | None = None) -> int:
        """Delete changes recorded, and row digests last seen, before the retention; how many
        changes went."""
        before = to_db((now or datetime.now(UTC)) - retention)
        removed = 0
        purges = (("watch.purge_changes", _PURGE_CHANGES), ("watch.purge_rows", _PURGE_ROWS))
        for name, sql in purges:
            while True:
                async with self._session.autocommit("purging old changes") as db:
                    n = await db.execute(name, sql, (before, PURGE_BATCH))
                removed += n if name == "watch.purge_changes" else 0
                if n < PURGE_BATCH:
                    break
        return removed


def _change_args(a: Attribution) -> tuple[object, ...]:
    dev_name = None if a.dev_name is None else a.dev_name[:MAX_DEV_NAME_CHARS]
    return (
        a.office_id, a.table.value, a.key, a.stamp, a.row_digest, to_db(a.time), a.door.value,
        a.vendor,
        a.intent_id, a.user_num, dev_name, a.securitylog_num, a.stale_hash, a.first_seen,
        json.dumps(list(a.columns)), a.source.value, a.intent_pending,
    )
