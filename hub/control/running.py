"""The writer's operations services, for the life of the writer: the pause watcher, the lane
board and its reporter (``hub status``), and the queue depth poller (metrics). One context,
entered by the composition root; each office's lane takes its messages through ``gate``.
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
from hub.control.gate import LaneGate
from hub.control.reporter import LaneReporter, writer_id
from hub.control.store import ControlStore
from hub.control.watcher import PauseWatcher
from hub.observability import HubMetrics
from hub.observability.depths import DepthPoller
from hub.settings import HubSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Control:
    writer_id: str
    board: LaneBoard
    store: ControlStore
    watcher: PauseWatcher
    recheck_s: float

    def gate(self, office: str) -> LaneGate:
        """The office lane's gate, its in-flight count shown on the board."""
        gate = LaneGate(office, self.watcher.current, recheck_s=self.recheck_s)
        self.board.attach(office, gate.in_flight)
        return gate


@asynccontextmanager
async def running_control(
    settings: HubSettings, offices: Sequence[str], metrics: HubMetrics
) -> AsyncIterator[Control]:
    """The services, started; the pauses in force are read before this yields, so no lane
    takes a message of a paused office or vendor at start."""
    cs = settings.control
    store = await ControlStore.open(settings.ledger_db, on_query=metrics.ledger_query)
    try:
        board = LaneBoard(offices, metrics)
        watcher = PauseWatcher(store, poll_s=cs.pause_poll_s, on_change=board.pauses)
        await watcher.refresh()
        control = Control(
            writer_id=writer_id(), board=board, store=store, watcher=watcher,
            recheck_s=cs.pause_poll_s,
        )
        reporter = LaneReporter(
            store, board, writer_id=control.writer_id, heartbeat_s=cs.status_heartbeat_s
        )
        async with management_api(settings) as api:
            depths = DepthPoller(api, offices, metrics, poll_s=cs.depth_poll_s)
            async with _background(watcher.run(), reporter.run(), depths.run()):
                yield control
        await reporter.forget()
    finally:
        await store.close()


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
