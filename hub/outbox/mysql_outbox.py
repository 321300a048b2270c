"""The outbox on MariaDB (ledger migration 9): ``outcome_outbox``. Times are the database's clock.

A relay's batch is one transaction: the vendor's oldest rows locked with ``SKIP LOCKED`` (a
locked row is another relay's), kept only when the first of them is the vendor's oldest row of
all, so a second relay passes a vendor the first is on rather than publish behind its back.
Under READ COMMITTED the lock takes no gap, so finishing's inserts never wait for a relay.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from contracts import OutcomeEvent
from hub.ledger.mysql_rows import cut
from hub.ledger.mysql_session import MySqlSession, Record, Statements
from hub.ledger.port import QueryObserver
from hub.outbox import KeptOutcome, Waiting
from hub.settings import MySqlSettings

MAX_LAST_ERROR_CHARS = 500
_NOW = "UTC_TIMESTAMP(6)"
_AGE_US = f"TIMESTAMPDIFF(MICROSECOND, created_at, {_NOW})"
_ADD = f"""
INSERT INTO outcome_outbox (vendor, office_id, intent_id, routing_key, correlation_id,
    event_json, created_at, attempts, last_error, last_attempt_at)
VALUES (%s, %s, %s, %s, %s, %s, {_NOW}, %s, %s, IF(%s > 0, {_NOW}, NULL))
"""
_HEAD = f"""
SELECT id, vendor, office_id, intent_id, routing_key, correlation_id, event_json,
    {_AGE_US} AS age_us
FROM outcome_outbox WHERE vendor = %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
"""
_OLDEST = "SELECT MIN(id) AS id FROM outcome_outbox WHERE vendor = %s"
_REMOVE = "DELETE FROM outcome_outbox WHERE id = %s"
_FAILED = f"""
UPDATE outcome_outbox SET attempts = attempts + 1, last_error = %s, last_attempt_at = {_NOW}
WHERE id = %s
"""
_WAITING = f"""
SELECT o.vendor, w.waiting, o.attempts, o.last_error, {_AGE_US} AS age_us
FROM (SELECT vendor, COUNT(*) AS waiting, MIN(id) AS oldest FROM outcome_outbox GROUP BY vendor)
    AS w JOIN outcome_outbox AS o ON o.id = w.oldest
ORDER BY o.vendor
"""


class RelayBatch:
    """A vendor's oldest waiting events, locked by this relay until its transaction ends."""

    def __init__(self, tx: Statements, rows: list[KeptOutcome]) -> None:
        self._tx = tx
        self.rows = rows

    async def remove(self, row: KeptOutcome) -> None:
        """Delivered (confirmed by the broker) or dropped: the row goes at the commit."""
        await self._tx.execute("outbox.remove", _REMOVE, (row.id,))

    async def failed(self, row: KeptOutcome, error: str) -> None:
        args = (cut(error, MAX_LAST_ERROR_CHARS), row.id)
        await self._tx.execute("outbox.failed", _FAILED, args)


class MySqlOutbox:
    """``outcome_outbox`` over a small pool of the hub database."""

    def __init__(self, session: MySqlSession) -> None:
        self._session = session

    @classmethod
    async def open(
        cls, settings: MySqlSettings, *, on_query: QueryObserver, max_connections: int = 4
    ) -> MySqlOutbox:
        return cls(
            await MySqlSession.open(settings, on_query=on_query, max_connections=max_connections)
        )

    async def close(self) -> None:
        await self._session.close()

    async def add(self, event: OutcomeEvent, *, intent_id: int | None, error: str | None) -> None:
        """Keep ``event``; ``error`` is why its publish failed (that try counts as an attempt)."""
        tried = 0 if error is None else 1
        args = (
            event.vendor, event.office_id, intent_id, event.routing_key(), event.correlation_id,
            event.to_json(), tried, cut(error, MAX_LAST_ERROR_CHARS), tried,
        )
        async with self._session.autocommit("keeping an outcome event") as tx:
            await tx.execute("outbox.add", _ADD, args)

    @asynccontextmanager
    async def oldest(self, vendor: str, *, limit: int) -> AsyncIterator[RelayBatch]:
        """Up to ``limit`` of the vendor's oldest events, locked until the block ends, when what
        the batch recorded commits; none if another relay holds the vendor's oldest one."""
        async with self._session.transaction(f"relaying vendor {vendor}'s outcomes") as tx:
            records = await tx.fetch_all("outbox.head", _HEAD, (vendor, limit))
            if records:
                oldest = await tx.fetch_one("outbox.oldest", _OLDEST, (vendor,))
                if oldest is None or oldest["id"] != records[0]["id"]:
                    records = []
            yield RelayBatch(tx, [_kept(record) for record in records])

    async def waiting(self) -> list[Waiting]:
        """Every vendor with outcomes waiting, by name."""
        async with self._session.autocommit("counting waiting outcomes") as tx:
            records = await tx.fetch_all("outbox.waiting", _WAITING)
        return [_waiting(record) for record in records]


def _age_s(record: Record) -> float:
    return max(0, int(record["age_us"])) / 1_000_000


def _kept(record: Record) -> KeptOutcome:
    return KeptOutcome(
        id=record["id"],
        vendor=record["vendor"],
        office=record["office_id"],
        intent_id=record["intent_id"],
        routing_key=record["routing_key"],
        correlation_id=record["correlation_id"],
        event_json=record["event_json"],
        age_s=_age_s(record),
    )


def _waiting(record: Record) -> Waiting:
    return Waiting(
        vendor=record["vendor"],
        count=int(record["waiting"]),
        oldest_s=_age_s(record),
        attempts=int(record["attempts"]),
        last_error=record["last_error"],
    )
