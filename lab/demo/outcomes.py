"""The outcome events of a run, read from both vendors' outcome queues as they come, and the
change events (change.v1) the watch told them there, kept apart per vendor.

An event of an earlier run (its key lacks this run's prefix) is a leftover: it is counted and
acked, never mixed in. Waiting is by events, not by sleeping: each event wakes the waiters.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from contracts import ChangeEvent, OutcomeEvent, OutcomeStatus
from lab.demo.vendors import DemoVendor

VendorKey = tuple[str, str]  # (vendor, idempotency key)


class OutcomeBook:
    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self.events: list[OutcomeEvent] = []
        self.leftovers = 0  # events of earlier runs, acked and ignored
        self.changes: dict[str, list[ChangeEvent]] = {}  # per vendor, as they came
        self._counts: Counter[VendorKey] = Counter()
        self._changed = asyncio.Event()

    def record(self, event: OutcomeEvent) -> None:
        if not event.idempotency_key.startswith(self._prefix):
            self.leftovers += 1
            return
        self.events.append(event)
        self._counts[(event.vendor, event.idempotency_key)] += 1
        self._changed.set()

    def record_change(self, vendor: str, event: ChangeEvent) -> None:
        self.changes.setdefault(vendor, []).append(event)
        self._changed.set()

    async def follow(self, vendor: DemoVendor) -> None:
        """Record the vendor's events until cancelled; each is acked once recorded."""
        self.changes.setdefault(vendor.name, [])
        async for event in vendor.events():
            if isinstance(event, ChangeEvent):
                self.record_change(vendor.name, event)
            else:
                self.record(event)

    def missing(self, expected: Counter[VendorKey]) -> int:
        """How many of ``expected`` events have not come yet."""
        return sum(max(0, count - self._counts[key]) for key, count in expected.items())

    def first_applied(self, vendor: str, key: str) -> OutcomeEvent | None:
        for event in self.events:
            applied = event.status is OutcomeStatus.APPLIED and not event.duplicate
            if applied and event.vendor == vendor and event.idempotency_key == key:
                return event
        return None

    async def wait(
        self, expected: Counter[VendorKey], deadline: float, on_change: Callable[[], None]
    ) -> bool:
        """Until every expected event came (True) or the loop's clock (``loop.time()``) passed
        ``deadline``; ``on_change`` after each new event."""
        return await self.wait_until(lambda: not self.missing(expected), deadline, on_change)

    async def wait_until(
        self, done: Callable[[], bool], deadline: float, on_change: Callable[[], None]
    ) -> bool:
        """Until ``done()`` after an event (True) or ``deadline`` passed (False)."""
        while not done():
            self._changed.clear()
            try:
                async with asyncio.timeout_at(deadline):
                    await self._changed.wait()
            except TimeoutError:
                return False
            on_change()
        return True
