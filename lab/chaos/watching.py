"""The watch over the run's offices (issue 19): ``hub watch``'s own parts, in process, on the
run's registry and hub database (the ledger database, where the watch keeps its tables).

Its first scan is taken before anything is published: the watch starts its cursors at that
moment, so every later change of the offices' rows is news to it. Then it scans every
``SCAN_EVERY_S`` while the chaos runs (as ``hub watch`` would at a short interval), and once
more after the drain. ``Scans`` counts the scans done, so the rogue can wait for two of them
between two changes of one row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from hub.observability import FamilyRegistry, HubMetrics, LabelBounds
from hub.registry import load_registry
from hub.watch import Watch, opened_watch, scan_once
from lab.chaos.stack import Stack

SCAN_EVERY_S = 1.5


@dataclass
class Scans:
    count: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def done(self) -> None:
        async with self._changed:
            self.count += 1
            self._changed.notify_all()

    async def reached(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.count >= count)


@dataclass(frozen=True, kw_only=True)
class RunWatch:
    watch: Watch
    scans: Scans

    async def scan(self) -> None:
        await scan_once(self.watch)
        await self.scans.done()

    def scanned_tables(self) -> frozenset[str]:
        """The tables the watch scans at some office (learned on its first scan)."""
        return frozenset(
            table.table.value for watcher in self.watch.watchers.values()
            for table in watcher.tables or () if table.scanned
        )

    async def scan_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SCAN_EVERY_S)
            await self.scan()


@asynccontextmanager
async def watching(stack: Stack) -> AsyncIterator[RunWatch]:
    """The watch over every office of the run, its first scan taken."""
    registry = await asyncio.to_thread(load_registry, stack.settings.registry_path, stack.environ)
    metrics = HubMetrics(FamilyRegistry(), LabelBounds.from_registry(registry))
    async with opened_watch(stack.settings, registry, metrics) as watch:
        run = RunWatch(watch=watch, scans=Scans())
        await run.scan()
        yield run
