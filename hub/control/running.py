"""The writer's operations services, for the life of the writer: the watcher of pauses, holds and
live writers (this writer beats with each read), the renewal of this writer's holds
(hub/custody), the lane board and its reporter (``hub status``),
and the queue depth poller (metrics). One context, entered by the composition root; each office's
lane decides from the watcher's view and parks through ``custody``.

The outbox's relay (hub/outbox) is a second context, entered once the broker is open: it
publishes through the writer's confirming channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from hub.broker_admin import management_api
from hub.control.board import LaneBoard
from hub.control.reporter import LaneReporter, writer_id
from hub.control.store import ControlStore
from hub.control.watcher import ControlWatcher
from hub.custody.mysql_custody import MySqlCustody
from hub.errors import HubError
from hub.observability import HubMetrics
from hub.observability.depths import DepthPoller
from hub.outbox.mysql_outbox import MySqlOutbox
from hub.outbox.relay import Outbox, Relay, StoredOutcomes
from hub.settings import HubSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Control:
    writer_id: str
    board: LaneBoard
    store: ControlStore
    custody: MySqlCustody
    watcher: ControlWatcher
    poll_s: float  # how often the watcher reads pauses and holds
    stale_after_s: float  # a hold or lane status not renewed this long belongs to a writer gone


@asynccontextmanager
async def running_control(
    settings: HubSettings, offices: Sequence[str], metrics: HubMetrics
) -> AsyncIterator[Control]:
    """The services, started; the pauses in force are read before this yields, so no lane
    takes a message of a paused office or vendor at start."""
    cs = settings.control
    store = await ControlStore.open(settings.ledger_db, on_query=metrics.ledger_query)
    custody = await MySqlCustody.open(settings.ledger_db, on_query=metrics.ledger_query)
    try:
        me = writer_id()
        board = LaneBoard(offices, metrics)
        watcher = ControlWatcher(
            store, custody, offices=offices, writer_id=me, poll_s=cs.pause_poll_s,
            writer_stale_s=cs.writer_stale_s, on_pauses=board.pauses, on_parked=metrics.parked,
            on_owned=metrics.offices_owned,
        )
        await watcher.refresh()
        control = Control(
            writer_id=me, board=board, store=store, custody=custody, watcher=watcher,
            poll_s=cs.pause_poll_s, stale_after_s=cs.stale_after_s,
        )
        reporter = LaneReporter(
            store, board, writer_id=me, heartbeat_s=cs.status_heartbeat_s,
            serving=lambda office: watcher.view().owner(office) == me,
        )
        renewing = _renew_holds(custody, me, cs.status_heartbeat_s)
        async with management_api(settings) as api:
            depths = DepthPoller(api, offices, metrics, poll_s=cs.depth_poll_s)
            async with _background(watcher.run(), reporter.run(), depths.run(), renewing):
                yield control
        await _release_holds(custody, control.writer_id)
        await reporter.forget()
    finally:
        await custody.close()
        await store.close()


@asynccontextmanager
async def running_outbox(
    settings: HubSettings, publisher: StoredOutcomes, metrics: HubMetrics
) -> AsyncIterator[Outbox]:
    """The outbox for finishing, its relay running meanwhile. The waiting vendors are counted
    before this yields, so a new outcome does not overtake one kept before a restart."""
    store = await MySqlOutbox.open(settings.ledger_db, on_query=metrics.ledger_query)
    try:
        outbox = Outbox(store, metrics)
        relay = Relay(
            outbox=outbox, store=store, publisher=publisher, metrics=metrics,
            poll_s=settings.control.outbox_poll_s,
            max_age_s=settings.ledger_retention_days * 86_400.0,
        )
        try:
            await outbox.count()
        except HubError as exc:
            log.warning("cannot count waiting outcome events yet (%s)", exc)
        async with _background(relay.run()):
            yield outbox
    finally:
        await store.close()


async def _renew_holds(custody: MySqlCustody, writer: str, every_s: float) -> None:
    """This writer's holds stay its own while it runs; a failure waits for the next turn."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await custody.renew_holds(writer)
        except HubError as exc:
            log.warning("could not renew this writer's holds (%s)", exc)


async def _release_holds(custody: MySqlCustody, writer: str) -> None:
    """Stopping cleanly: what this writer parked stays parked, for whichever writer consumes
    the office next to drain first; only the locks go, so nobody waits for them to go stale."""
    try:
        released = await custody.release_holds(writer)
    except HubError as exc:
        log.warning("could not release this writer's holds (%s); they go stale", exc)
        return
    if released:
        log.info("released %d office hold(s); their parked deliveries stay parked", released)


@asynccontextmanager
async def _background(*work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``work`` as tasks for the block; cancel and await them after it."""
    tasks = [asyncio.create_task(_logged(each)) for each in work]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    """A background service's own bug is logged; the writer goes on without that service."""
    try:
        await work
    except Exception:
        log.exception("an operations service stopped unexpectedly")
