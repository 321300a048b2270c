"""Pacing per Open Dental customer key, so the hub nearly never meets a throttle reply.

Open Dental throttles each customer key in Remote mode: one request per second, one per 5 s for a
key holding ReadAll only (opendental-api.md §2); Local and Service modes are not throttled.
Whether a slot counts from the previous request's start or from its reply is UNCONFIRMED. A key
has one request in flight at a time either way: its slot is held until the reply.

Open Dental registers a request somewhere between its send and its reply, which the hub cannot
see. Pacing a whole slot after each reply is safe under both readings and costs a round trip per
slot (``Pacing.REPLIES``). The adaptive pacing sends the next request a slot after the previous
*send*, later by how much slower the previous round trip was than the fastest recent one (the
floor): a request registered late had a slow way in, and its round trip shows it, so however the
round trip splits between the two ways, two starts are never under a slot apart. Put as a rule:
the next request goes a slot after the reply, minus the floor. It costs the spread of the round
trips, not the round trip. Until a few round trips have been seen the floor is unknown, and the
key is paced from its replies.

Under the replies reading that rule can fall short by the office's own running time, so a
throttle reply (``defer``) adds a back-off to the key's next requests, which then decays by a
small share per reply: the key probes back toward pacing from sends, slowly enough that a
throttle reply comes rarely. The floor is the least round trip over the latest one or two
windows of ``FLOOR_WINDOW`` replies, so it follows a network that got slower. A throttle
reply's own round trip (Open Dental ran nothing) counts toward it, which can only lower it:
later starts, never earlier ones.
"""

from __future__ import annotations

import asyncio
import math
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
from hub.settings import ApiMode, Pacing

FLOOR_WINDOW = 1024  # replies per window of the floor's minimum: a longer one only costs credit
MIN_FLOOR_SAMPLES = 8  # round trips seen before the floor is trusted; until then, from replies
# The least of a few round trips lies above the least there can be: the credit is the floor less
# FLOOR_DOUBT × the mean excess over it / √(round trips seen, up to a window), so a key's first
# credits are smaller while its floor settles (a throttle reply then costs a slot or more).
FLOOR_DOUBT = 2.0
EXCESS_GAIN = 1 / 16  # weight of each new round trip in the mean excess over the floor
BACKOFF_STEP_S = 0.01  # added to a key's back-off by each throttle reply
BACKOFF_DECAY = 1 / 1024  # share of the back-off dropped per reply: half-life about 700 replies
BACKOFF_GONE_S = 0.0001  # a back-off decayed below this is none


class Pacer(Protocol):
    """Decides when the next request on a customer key may start."""

    def slot(self, customer_key: str) -> AbstractAsyncContextManager[float]:
        """Wait for this key's next slot and hold it while the request runs; gives the seconds
        waited. Leave it when the request has ended: replied, failed or been cancelled."""
        ...

    def defer(self, customer_key: str, seconds: float) -> None:
        """Open Dental throttled the key and asked us to come back later: no slot on this key
        for ``seconds``, and its next requests keep further apart for a while."""
        ...


def min_interval_s(mode: ApiMode, *, read_only: bool, safety_margin_s: float) -> float:
    """The key's slot plus the margin, or 0 when it is not throttled."""
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


@dataclass(slots=True)
class _RoundTrips:
    """What one throttled key's replies taught: the floor of its round trips and its back-off."""

    window_min_s: float = math.inf  # the least round trip of the current window
    previous_min_s: float = math.inf  # and of the window before it
    in_window: int = 0
    seen: int = 0
    excess_s: float = 0.0  # the mean of round trips' excess over the floor
    backoff_s: float = 0.0

    def replied(self, round_trip_s: float) -> None:
        self.seen += 1
        self.backoff_s -= self.backoff_s * BACKOFF_DECAY
        if self.backoff_s < BACKOFF_GONE_S:
            self.backoff_s = 0.0
        self.window_min_s = min(self.window_min_s, round_trip_s)
        self.in_window += 1
        if self.in_window == FLOOR_WINDOW:
            self.previous_min_s, self.window_min_s, self.in_window = self.window_min_s, math.inf, 0
        excess_s = round_trip_s - min(self.window_min_s, self.previous_min_s)
        self.excess_s += (excess_s - self.excess_s) * EXCESS_GAIN

    @property
    def credit_s(self) -> float:
        """How much of the round trip the next request may go before the reply's slot ends:
        the floor less its doubt, or 0 (pace from replies) until enough round trips were seen."""
        if self.seen < MIN_FLOOR_SAMPLES:
            return 0.0
        floor_s = min(self.window_min_s, self.previous_min_s)
        doubt_s = FLOOR_DOUBT * self.excess_s / math.sqrt(min(self.seen, FLOOR_WINDOW))
        return max(0.0, floor_s - doubt_s)

    def throttled(self, interval_s: float) -> None:
        self.backoff_s = min(interval_s, self.backoff_s + BACKOFF_STEP_S)


class KeyPacer:
    """Paces every registered customer key from one dict of next-allowed monotonic times.

    An idle unthrottled key costs one float, an idle throttled one a few more: no task, timer or
    lock. Concurrent callers on one key take their slots one at a time, in arrival order. Keys
    must be registered (``register``) so their slot is known; it never shrinks, because Open
    Dental's throttle is per key.
    """

    def __init__(
        self,
        *,
        pacing: Pacing = Pacing.ADAPTIVE,
        safety_margin_s: float = DEFAULT_SAFETY_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        remote_interval_s: float = REMOTE_INTERVAL_S,
        read_only_interval_s: float = REMOTE_READ_ONLY_INTERVAL_S,
        on_backoff: Callable[[str, float], None] | None = None,
    ) -> None:
        self._pacing = pacing
        self._on_backoff = on_backoff  # (office id, seconds) whenever a key's back-off moves
        self._safety_margin_s = safety_margin_s
        self._clock = clock
        self._sleep = sleep
        # Open Dental's slots; tests shorten them to match a simulator's.
        self._slots_s = (remote_interval_s, read_only_interval_s)
        self._interval_s: dict[str, float] = {}  # the slot plus the margin
        self._next_at: dict[str, float] = {}
        self._queues: dict[str, _Queue] = {}
        self._round_trips: dict[str, _RoundTrips] = {}
        self._offices: dict[str, list[str]] = {}  # a throttled key's offices, for on_backoff

    def register(self, office: OfficeApi) -> None:
        """Learn the slot of the office's customer key (the strictest one seen wins)."""
        key = office.customer_key.get_secret_value()
        slot_s = self._slots_s[1] if office.read_only else self._slots_s[0]
        interval_s = 0.0 if office.mode is not ApiMode.REMOTE else slot_s + self._safety_margin_s
        self._interval_s[key] = max(interval_s, self._interval_s.get(key, 0.0))
        if self._interval_s[key] > 0:
            self._round_trips.setdefault(key, _RoundTrips())
            self._offices.setdefault(key, []).append(office.office_id)

    @property
    def busy_keys(self) -> int:
        """How many keys have callers waiting for a slot or holding one right now (a gauge)."""
        return len(self._queues)

    def backoff_s(self, customer_key: str) -> float:
        """How much later than the round trips ask the key's requests go, for throttle replies
        it met (0 for a key never throttled, or not throttled by mode)."""
        trips = self._round_trips.get(customer_key)
        return 0.0 if trips is None else trips.backoff_s

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
                    async with self._held(customer_key, interval_s):
                        yield self._clock() - started_at
                    return
            # An unthrottled key that was deferred: nothing to hold once the wait is over.
            yield self._clock() - started_at
        finally:
            queue.callers -= 1
            if queue.callers == 0:
                del self._queues[customer_key]

    @asynccontextmanager
    async def _held(self, customer_key: str, interval_s: float) -> AsyncIterator[None]:
        """Hold the key's slot while its request runs, then open the next one."""
        trips = self._round_trips[customer_key]
        sent_at = self._clock()
        try:
            yield
        except BaseException:
            # No reply (a transport failure, a cancellation): nothing learned, a slot from now.
            self._push(customer_key, interval_s + trips.backoff_s)
            raise
        replied_at = self._clock()
        had_backoff = trips.backoff_s > 0
        trips.replied(replied_at - sent_at)
        if had_backoff:
            self._report_backoff(customer_key, trips.backoff_s)
        credit_s = trips.credit_s if self._pacing is Pacing.ADAPTIVE else 0.0
        self._push(customer_key, max(0.0, interval_s + trips.backoff_s - credit_s))

    def defer(self, customer_key: str, seconds: float) -> None:
        trips = self._round_trips.get(customer_key)
        if trips is not None:
            trips.throttled(self._interval_for(customer_key))
            self._report_backoff(customer_key, trips.backoff_s)
        self._push(customer_key, seconds)

    def _report_backoff(self, customer_key: str, backoff_s: float) -> None:
        if self._on_backoff is not None:
            for office_id in self._offices.get(customer_key, ()):
                self._on_backoff(office_id, backoff_s)

    def _push(self, customer_key: str, seconds: float) -> None:
        """No slot on the key for ``seconds`` from now (a later opening stands)."""
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
