"""The change events owed to vendors, on MariaDB (ledger migration 17): ``change_sends``.

One row per (vendor, event id), recorded (an upsert that keeps a known row) before the event is
published, so a change reported again (the watch after a restart, a rescan) finds its row and is
never owed twice; settled ``sent`` once the broker confirms the publish, or ``withdrawn`` when
the vendor's read agreement no longer covers it. Ids and column names only: the values are read
from the office's database when the event goes out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts import ChangeDoor
from hub.ledger.mysql_rows import cut, from_db, to_db
from hub.ledger.mysql_session import MySqlSession, Record
from hub.ledger.port import QueryObserver
from hub.settings import MySqlSettings

MAX_LAST_ERROR_CHARS = 500
_NOW = "UTC_TIMESTAMP(6)"
_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, 'pending', " + _NOW + ")"
# An upsert that changes nothing (not INSERT IGNORE, whose duplicate warning is an error under
# the tests' warning filter, and which would hide other errors too): a known row counts 0.
_RECORD = """
INSERT INTO change_sends (vendor, event_id, office_id, od_table, od_primary_key, door,
    changed_at, columns_json, state, created_at)
VALUES {rows}
ON DUPLICATE KEY UPDATE id = id
"""
_PENDING = """
SELECT id, vendor, event_id, office_id, od_table, od_primary_key, door, changed_at, columns_json
FROM change_sends WHERE office_id = %s AND state = 'pending' ORDER BY id LIMIT %s
"""
_SETTLE = f"UPDATE change_sends SET state = %s, settled_at = {_NOW} WHERE id = %s"
_FAILED = "UPDATE change_sends SET attempts = attempts + 1, last_error = %s WHERE id = %s"
_FORGET = "DELETE FROM change_sends WHERE state <> 'pending' AND created_at < %s LIMIT %s"


class SendState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, kw_only=True)
class OwedChange:
    """One change event owed to one vendor: what the event says, but its values."""

    id: int  # record order
    vendor: str
    event_id: str
    office: str
    table: str
    primary_key: int
    door: ChangeDoor
    changed_at: datetime
    columns: tuple[str, ...]


class MySqlChangeSends:
    """``change_sends`` over a small pool of the hub database."""

    def __init__(self, session: MySqlSession) -> None:
        self._session = session

    @classmethod
    async def open(
        cls, settings: MySqlSettings, *, on_query: QueryObserver, max_connections: int = 2
    ) -> MySqlChangeSends:
        return cls(
            await MySqlSession.open(settings, on_query=on_query, max_connections=max_connections)
        )

    async def close(self) -> None:
        await self._session.close()

    async def record(self, owed: Sequence[OwedChange]) -> int:
        """Owe each change to its vendor unless it was owed already; how many are new."""
        if not owed:
            return 0
        sql = _RECORD.format(rows=", ".join([_ROW] * len(owed)))
        args = [value for change in owed for value in _values(change)]
        async with self._session.autocommit("recording change events owed") as tx:
            return await tx.execute("change_sends.record", sql, args)

    async def pending(self, office: str, *, limit: int) -> list[OwedChange]:
        """The office's changes not yet published, oldest first."""
        async with self._session.autocommit("listing change events owed") as tx:
            records = await tx.fetch_all("change_sends.pending", _PENDING, (office, limit))
        return [_owed(record) for record in records]

    async def settle(self, change: OwedChange, state: SendState) -> None:
        async with self._session.autocommit("settling a change event") as tx:
            await tx.execute("change_sends.settle", _SETTLE, (state.value, change.id))

    async def failed(self, change: OwedChange, error: str) -> None:
        args = (cut(error, MAX_LAST_ERROR_CHARS), change.id)
        async with self._session.autocommit("counting a change event's failed publish") as tx:
            await tx.execute("change_sends.failed", _FAILED, args)

    async def forget_settled(self, before: datetime, *, limit: int = 10_000) -> int:
        """Drop settled rows recorded before ``before`` (past the watch's reach back: a change
        that old is never reported again); how many went."""
        async with self._session.autocommit("forgetting settled change events") as tx:
            return await tx.execute("change_sends.forget", _FORGET, (to_db(before), limit))


def _values(change: OwedChange) -> tuple[object, ...]:
    return (
        change.vendor, change.event_id, change.office, change.table, change.primary_key,
        change.door.value, to_db(change.changed_at), json.dumps(list(change.columns)),
    )


def _owed(record: Record) -> OwedChange:
    return OwedChange(
        id=int(record["id"]),
        vendor=record["vendor"],
        event_id=record["event_id"],
        office=record["office_id"],
        table=record["od_table"],
        primary_key=int(record["od_primary_key"]),
        door=ChangeDoor(record["door"]),
        changed_at=from_db(record["changed_at"]),
        columns=tuple(json.loads(record["columns_json"])),
    )
