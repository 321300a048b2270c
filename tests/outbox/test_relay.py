"""The outbox's relay on a real broker and MariaDB: each vendor's events oldest first, deleted
once the broker confirmed them, kept with their error while it refuses, dropped past the ledger's
retention, and never published by two relays at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import aiomysql
import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustChannel
from prometheus_client import CollectorRegistry

from contracts import OutcomeEvent, OutcomeStatus
from hub import names
from hub.ledger.mysql_session import ignore_query
from hub.observability import HubMetrics, LabelBounds
from hub.outbox.mysql_outbox import MySqlOutbox
from hub.outbox.relay import BATCH_ROWS, Outbox, Relay, StoredOutcomes
from hub.settings import MySqlSettings
from hub.topology import declare_outcome_queue
from hub.writer.finishing import AmqpPublisher
from tests.writer.support import GUARD_S, drain_outcomes, unique

OFFICE = "t-office-relay"
RETENTION_S = 7 * 86_400.0


def an_event(vendor: str) -> OutcomeEvent:
    return OutcomeEvent(
        vendor=vendor, idempotency_key=unique("key"), office_id=OFFICE, contract="patient.create",
        version=1, status=OutcomeStatus.APPLIED, reason=None, decided_at=datetime.now(UTC),
    )


@dataclass(frozen=True, kw_only=True)
class Relaying:
    relay: Relay
    outbox: Outbox
    metrics: CollectorRegistry

    def sample(self, name: str, vendor: str) -> float:
        return self.metrics.get_sample_value(name, {"vendor": vendor}) or 0.0


@asynccontextmanager
async def relaying(
    ledger_db: MySqlSettings, vendor: str, publisher: StoredOutcomes, *,
    batch_rows: int = BATCH_ROWS,
) -> AsyncIterator[Relaying]:
    """A relay as a writer runs one: its own pool of the hub database and its own metrics."""
    registry = CollectorRegistry()
    metrics = HubMetrics(registry, LabelBounds(vendors=frozenset({vendor}), offices=frozenset()))
    store = await MySqlOutbox.open(ledger_db, on_query=ignore_query)
    try:
        outbox = Outbox(store, metrics)
        relay = Relay(
            outbox=outbox, store=store, publisher=publisher, metrics=metrics, poll_s=60.0,
            max_age_s=RETENTION_S, batch_rows=batch_rows,
        )
        yield Relaying(relay=relay, outbox=outbox, metrics=registry)
    finally:
        await store.close()


class Recorded:
    """The real publisher, and the routing keys it was asked to publish."""

    def __init__(self, channel: AbstractChannel) -> None:
        self._inner = AmqpPublisher(channel, confirm_timeout_s=5.0)
        self.keys: list[str] = []

    async def stored_outcome(
        self, routing_key: str, event_json: str, correlation_id: str | None
    ) -> None:
        self.keys.append(routing_key)
        await self._inner.stored_outcome(routing_key, event_json, correlation_id)


class Gated(Recorded):
    """Stopped before its first publish until released: a relay caught inside its batch."""

    def __init__(self, channel: AbstractChannel) -> None:
        super().__init__(channel)
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def stored_outcome(
        self, routing_key: str, event_json: str, correlation_id: str | None
    ) -> None:
        self.entered.set()
        await self.release.wait()
        await super().stored_outcome(routing_key, event_json, correlation_id)


async def nothing_more(channel: AbstractChannel, vendor: str) -> bool:
    queue = await channel.get_queue(names.outcome_queue(vendor), ensure=False)
    return await queue.get(no_ack=True, fail=False) is None


async def test_a_refused_event_waits_with_its_error_and_its_vendors_go_in_order_later(
    ledger_db: MySqlSettings, publish_channel: AbstractChannel,
    hub_channel: AbstractRobustChannel, vendor: str,
) -> None:
    # Given three events kept for a vendor that has no outcome queue
    events = [an_event(vendor) for _ in range(3)]
    publisher = Recorded(publish_channel)
    async with relaying(ledger_db, vendor, publisher) as r:
        for event in events:
            await r.outbox.keep(event, intent_id=None, error=None)
        # When the relay runs
        # Then nothing is delivered: the oldest was tried, its error kept, and no later one
        # was tried behind it
        assert await r.relay.relay_once() == 0
        assert publisher.keys == [events[0].routing_key()]
        (waiting,) = await r.outbox.count()
        assert (waiting.vendor, waiting.count, waiting.attempts) == (vendor, 3, 1)
        assert waiting.last_error is not None and "hub.outcomes" in waiting.last_error
        assert r.sample("hub_outcomes_waiting", vendor) == 3
        # When the queue is declared again and the relay runs
        await declare_outcome_queue(hub_channel, vendor)
        delivered = await r.relay.relay_once()
        # Then all three are delivered, oldest first, and the outbox is empty
        assert delivered == 3 and await r.outbox.count() == []
        assert r.sample("hub_outcomes_waiting", vendor) == 0
        assert r.sample("hub_outcomes_relayed_total", vendor) == 3
    told = await drain_outcomes(hub_channel, vendor, 3)
    assert [e.idempotency_key for e in told] == [e.idempotency_key for e in events]
    assert await nothing_more(hub_channel, vendor)


async def test_two_relays_never_publish_the_same_event_nor_one_vendor_side_by_side(
    ledger_db: MySqlSettings, publish_channel: AbstractChannel,
    hub_channel: AbstractRobustChannel, vendor: str,
) -> None:
    # Given three events waiting for a vendor whose queue is there, and two writers' relays,
    # the first taking one event per batch
    await declare_outcome_queue(hub_channel, vendor)
    events = [an_event(vendor) for _ in range(3)]
    first, second = Gated(publish_channel), Recorded(publish_channel)
    async with relaying(ledger_db, vendor, first, batch_rows=1) as one, \
            relaying(ledger_db, vendor, second) as other:
        for event in events:
            await one.outbox.keep(event, intent_id=None, error=None)
        # When the first relay is inside its batch (the oldest event locked, being published)
        running = asyncio.create_task(one.relay.relay_once())
        try:
            async with asyncio.timeout(GUARD_S):  # a guard, not a timing
                await first.entered.wait()
            # And the second relay runs meanwhile
            by_second = await other.relay.relay_once()
        finally:
            # Then the first goes on (also when the second failed: its locks must go)
            first.release.set()
            by_first = await running
        # Then the second published nothing: not the locked event, nor the ones behind it
        assert (by_second, second.keys) == (0, [])
    # Then the first delivered all three, in order, each once
    assert by_first == 3
    told = await drain_outcomes(hub_channel, vendor, 3)
    assert [e.idempotency_key for e in told] == [e.idempotency_key for e in events]
    assert await nothing_more(hub_channel, vendor)


async def age(ledger_db: MySqlSettings, vendor: str, days: int) -> None:
    """The vendor's oldest waiting event, made ``days`` older."""
    conn = await aiomysql.connect(
        host=ledger_db.host, port=ledger_db.port, user=ledger_db.user,
        password=ledger_db.password.get_secret_value(), db=ledger_db.database, autocommit=True,
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "UPDATE outcome_outbox SET created_at = created_at - INTERVAL %s DAY "
                "WHERE vendor = %s ORDER BY id LIMIT 1", (days, vendor),
            )
    finally:
        conn.close()


async def test_an_event_past_the_ledgers_retention_is_dropped_logged_and_counted(
    ledger_db: MySqlSettings, publish_channel: AbstractChannel,
    hub_channel: AbstractRobustChannel, vendor: str, caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a vendor's event kept 8 days ago (past a 7-day retention) and a fresh one behind it
    await declare_outcome_queue(hub_channel, vendor)
    old, fresh = an_event(vendor), an_event(vendor)
    async with relaying(ledger_db, vendor, Recorded(publish_channel)) as r:
        await r.outbox.keep(old, intent_id=None, error=None)
        await r.outbox.keep(fresh, intent_id=None, error=None)
        await age(ledger_db, vendor, days=8)
        # When the relay runs
        with caplog.at_level(logging.WARNING, logger="hub.outbox.relay"):
            delivered = await r.relay.relay_once()
        # Then the old one is dropped with a warning that names its vendor (and holds none of
        # the event), counted; the fresh one is delivered; nothing is left
        assert delivered == 1 and await r.outbox.count() == []
        assert r.sample("hub_outcomes_dropped_total", vendor) == 1
    (record,) = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert record.levelno == logging.WARNING and getattr(record, "vendor", None) == vendor
    assert old.idempotency_key not in record.getMessage()
    (told,) = await drain_outcomes(hub_channel, vendor, 1)
    assert told.idempotency_key == fresh.idempotency_key
    assert await nothing_more(hub_channel, vendor)
