"""Pacing per Open Dental customer key, so the hub never depends on a throttle reply.

Open Dental throttles each customer key in Remote mode: one request per second, one per 5 s for a
key holding ReadAll only, and the time a request runs counts toward its slot, so slots are
measured between request starts (opendental-api.md §2). Local and Service modes are not throttled.

A start is when Open Dental registers the request, which the hub cannot see: it lies somewhere
between the send and the reply. So a throttled key's slot is held until the reply, and the next
request on the key starts a slot and a small margin after it (Open Dental registered the previous
request before it replied): every gap is a full slot whatever the network and the server's load
do, at the cost of one round trip per slot. Pacing from sends alone would let a request that was
registered late and the next one, registered on time, fall under a slot apart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from hub.opendental.constants import (
    DEFAULT_SAFETY_MARGIN_S,
    REMOTE_INTERVAL_S,
    REMOTE_READ_ONLY_INTERVAL_S,
)
from hub.opendental.office import OfficeApi
from hub.settings import ApiMode


class Pacer(Protocol):
    """Decides when the next request on a customer key may start."""

    def slot(self, customer_key: str) -> AbstractAsyncContextManager[float]:
        """Wait for this key's next slot and hold it while the request runs; gives the seconds
        waited. Leave it when the request has ended: replied, failed or been cancelled."""
        ...

    def defer(self, customer_key: str, seconds: float) -> None:
        """Open Dental asked us to come back later: no slot on this key for ``seconds``."""
        ...


def min_interval_s(mode: ApiMode, *, read_only: bool, safety_margin_s: float) -> float:
    """The least time from a reply on one key to its next request, or 0 when it is not
    throttled."""
    if mode is not ApiMode.REMOTE:
        return 0.0
    base_s = REMOTE_READ_ONLY_INTERVAL_S if read_only else REMOTE_INTERVAL_S
    return base_s + safety_margin_s


def throttled(office: OfficeApi) -> bool:
    """Whether Open Dental spaces the requests on the office's customer key."""
    return min_interval_s(office.mode, read_only=office.read_only, safety_margin_s=0.0) > 0


@dataclass
class _Queue:
    """The callers of one key waiting or taking their slot; exists only while there are some."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # FIFO: waiters wake in order
    callers: int = 0


class KeyPacer:
    """Paces every registered customer key from one dict of next-allowed monotonic times.

    An idle key costs one float: no task, timer or lock. Concurrent callers on one key take
    their slots one at a time, in arrival order. Keys must be registered (``register``) so their
    interval is known; the interval never shrinks, because Open Dental's throttle is per key.
    """

    def __init__(
        self,
        *,
        safety_margin_s: float = DEFAULT_SAFETY_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._safety_margin_s = safety_margin_s
        self._clock = clock
        self._sleep = sleep
        self._interval_s: dict[str, float] = {}  # from a reply to the next send
        self._next_at: dict[str, float] = {}
        self._queues: dict[str, _Queue] = {}

    def register(self, office: OfficeApi) -> None:
        """Learn the interval of the office's customer key (the strictest one seen wins)."""
        key = office.customer_key.get_secret_value()
        interval_s = min_interval_s(
            office.mode, read_only=office.read_only, safety_margin_s=self._safety_margin_s
        )
        self._interval_s[key] = max(interval_s, self._interval_s.get(key, 0.0))

    @property
    def busy_keys(self) -> int:
        """How many keys have callers waiting for a slot or holding one right now (a gauge)."""
        return len(self._queues)

    @asynccontextmanager
    async def slot(self, customer_key: str) -> AsyncIterator[float]:
        interval_s = self._interval_for(customer_key)
        if interval_s <= 0 and self._next_at.get(customer_key, 0.0) <= self._clock():
            yield 0.0
            return
        started_at = self._clock()
        queue = self._queues.setdefault(customer_key, _Queue())
        queue.callers += 1
        try:
            async with queue.lock:
                await self._sleep_until_open(customer_key)
                if interval_s > 0:
                    try:
                        yield self._clock() - started_at
                    finally:
                        self.defer(customer_key, interval_s)
                    return
            # An unthrottled key that was deferred: nothing to hold once the wait is over.
            yield self._clock() - started_at
        finally:
            queue.callers -= 1
            if queue.callers == 0:
                del self._queues[customer_key]

    def defer(self, customer_key: str, seconds: float) -> None:
        open_at = self._clock() + max(0.0, seconds)
        self._next_at[customer_key] = max(open_at, self._next_at.get(customer_key, open_at))

    def _interval_for(self, customer_key: str) -> float:
        try:
            return self._interval_s[customer_key]
        except KeyError:
            raise LookupError("customer key not registered with the pacer") from None

    async def _sleep_until_open(self, customer_key: str) -> None:
        # Loop, not one sleep: a defer() while we sleep pushes the slot further out.
        while (delay_s := self._next_at.get(customer_key, 0.0) - self._clock()) > 0:
            await self._sleep(delay_s)
