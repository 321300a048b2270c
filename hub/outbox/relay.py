"""The outbox's two sides in a writer: ``Outbox`` keeps what finishing could not publish, and
``Relay`` publishes it when the broker takes it again, for the writer's life."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Protocol

from contracts import OutcomeEvent
from hub.errors import HubError
from hub.observability import HubMetrics
from hub.outbox import KeptOutcome, Waiting
from hub.outbox.mysql_outbox import MySqlOutbox, RelayBatch
from hub.writer.finishing import PublishFailed

log = logging.getLogger(__name__)

# Rows one relay transaction locks and publishes; a full batch delivered whole is followed by the
# next at once, so a long backlog drains at the broker's pace, not one batch per poll.
BATCH_ROWS = 100


class StoredOutcomes(Protocol):
    async def stored_outcome(
        self, routing_key: str, event_json: str, correlation_id: str | None
    ) -> None:
        """Publish a kept event as it was kept; ``PublishFailed`` if the broker did not take it."""
        ...


class Outbox:
    """Settlement's side (``OutcomeOutbox``): keeps events and knows whose wait, as of the
    relay's last count and this writer's own keeps since."""

    def __init__(self, store: MySqlOutbox, metrics: HubMetrics) -> None:
        self._store = store
        self._metrics = metrics
        self._waiting: frozenset[str] = frozenset()
        self._kept_since_count: set[str] = set()

    def has_waiting(self, vendor: str) -> bool:
        return vendor in self._waiting

    async def keep(self, event: OutcomeEvent, *, intent_id: int | None, error: str | None) -> None:
        await self._store.add(event, intent_id=intent_id, error=error)
        self._waiting |= {event.vendor}
        self._kept_since_count.add(event.vendor)
        self._metrics.outcome_kept(event.vendor)

    async def count(self) -> list[Waiting]:
        """What waits now, per vendor; sets the gauges. A keep committed while the count runs may
        be missing from its result, so the vendors kept meanwhile stay marked as waiting."""
        self._kept_since_count = set()
        waiting = await self._store.waiting()
        self._waiting = frozenset(each.vendor for each in waiting) | self._kept_since_count
        self._metrics.outcomes_waiting(waiting)
        return waiting


@dataclass(kw_only=True)
class _Pass:
    """What one batch did; counted and logged only once its transaction committed, so a batch
    rolled back (its rows to be tried again) is not reported twice."""

    delivered: list[KeptOutcome] = field(default_factory=list)
    dropped: list[KeptOutcome] = field(default_factory=list)
    failed: bool = False


@dataclass(frozen=True, kw_only=True)
class Relay:
    """One per writer, for its life (hub/control/running.py); it never touches a lane."""

    outbox: Outbox
    store: MySqlOutbox
    publisher: StoredOutcomes
    metrics: HubMetrics
    poll_s: float
    max_age_s: float  # the ledger's retention: an older event is dropped
    batch_rows: int = BATCH_ROWS

    async def run(self) -> None:
        """Relay now and every ``poll_s``, until cancelled; a database failure waits a turn."""
        failing = False
        while True:
            try:
                await self.relay_once()
            except HubError as exc:
                if not failing:
                    log.warning("cannot relay waiting outcome events (%s); trying again", exc)
                failing = True
            else:
                failing = False
            await asyncio.sleep(self.poll_s)

    async def relay_once(self) -> int:
        """Every vendor's waiting events, oldest first; how many the broker took."""
        waiting = await self.outbox.count()
        if not waiting:
            return 0
        delivered = 0
        for each in waiting:
            delivered += await self._relay_vendor(each.vendor)
        await self.outbox.count()
        return delivered

    async def _relay_vendor(self, vendor: str) -> int:
        delivered = 0
        while True:
            done = await self._relay_batch(vendor)
            delivered += len(done.delivered)
            for row in done.delivered:
                self.metrics.outcome_relayed(row.vendor)
            for row in done.dropped:
                self._dropped(row)
            if done.failed or len(done.delivered) + len(done.dropped) < self.batch_rows:
                return delivered

    async def _relay_batch(self, vendor: str) -> _Pass:
        done = _Pass()
        async with self.store.oldest(vendor, limit=self.batch_rows) as batch:
            for row in batch.rows:
                if not await self._relay_row(batch, row, done):
                    done.failed = True
                    break
        return done

    async def _relay_row(self, batch: RelayBatch, row: KeptOutcome, done: _Pass) -> bool:
        """False when the broker refused it: the vendor's later events wait behind it."""
        if row.age_s > self.max_age_s:
            await batch.remove(row)
            done.dropped.append(row)
            return True
        try:
            await self.publisher.stored_outcome(row.routing_key, row.event_json, row.correlation_id)
        except PublishFailed as exc:
            await batch.failed(row, str(exc))
            return False
        await batch.remove(row)
        done.delivered.append(row)
        return True

    def _dropped(self, row: KeptOutcome) -> None:
        fields = {"vendor": row.vendor, "office": row.office, "intent_id": row.intent_id}
        log.warning(
            "outcome event dropped: undelivered for %.1f days, past the ledger's retention",
            row.age_s / 86_400, extra={k: v for k, v in fields.items() if v is not None},
        )
        self.metrics.outcome_dropped(row.vendor)
