"""Open Dental's per-customer-key throttle (opendental-api.md §2), as an aiohttp middleware.

Only Remote mode is throttled; the Local API and the API Service are not. A key holding only
ReadAll gets one request per 5 s, a key holding any other permission one per second (500 ms
with Enterprise), GETs included.

Which instant a slot counts from is UNCONFIRMED (opendental-api.md §2), so it is a setting, the
reading: ``starts`` (the default) measures a slot from the start of the previous accepted request,
so the time a request runs counts toward its slot; ``replies`` measures it from the moment the
previous accepted request's reply was sent, and a request that comes while the key's previous
one is still running is over the limit.

What Open Dental sends back over the limit is undocumented (UNCONFIRMED), so the reply is
configurable: reject (default 429 with ``Retry-After`` and a bare-string body) or queue (hold the
request until its slot).
"""

from __future__ import annotations

import asyncio
import math
from enum import StrEnum
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import BaseModel, ConfigDict, Field, model_validator

from odsim.errors import error_response

if TYPE_CHECKING:
    from odsim.auth import Caller

REMOTE_MODE = "remote"
READ_ALL = "ReadAll"
ENTERPRISE = "Enterprise"
BUSY_GAP_SLOTS = 1.5  # a key's starts closer than this many slots apart: it was kept busy


class OverLimitReply(StrEnum):
    REJECT = "reject"  # answer at once with reject_status, Retry-After and reject_body
    QUEUE = "queue"  # hold the request until its slot comes, then run it


class Reading(StrEnum):
    STARTS = "starts"  # a slot counts from the previous accepted request's start
    REPLIES = "replies"  # a slot counts from the previous accepted request's reply


class ThrottleConfig(BaseModel):
    """How the simulated Remote API throttles each customer key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reading: Reading = Reading.STARTS
    reply: OverLimitReply = OverLimitReply.REJECT
    reject_status: int = Field(default=429, ge=400, le=599)
    reject_body: str = "Too many requests. Slow down: this customer key is throttled."
    interval_s: float = Field(default=1.0, ge=0)  # keys with any permission beyond ReadAll
    read_only_interval_s: float = Field(default=5.0, ge=0)  # keys holding ReadAll only
    enterprise_interval_s: float = Field(default=0.5, ge=0)  # keys holding Enterprise

    @model_validator(mode="after")
    def _replies_reading_rejects(self) -> ThrottleConfig:
        # A queued request would wait for a reply not yet sent: no time to queue it until.
        if self.reading is Reading.REPLIES and self.reply is OverLimitReply.QUEUE:
            raise ValueError("the replies reading answers over the limit with reject, not queue")
        return self


def slot_interval_s(config: ThrottleConfig, caller: Caller) -> float | None:
    """The caller's slot length, or None when its mode is not throttled."""
    if caller.mode != REMOTE_MODE:
        return None
    if ENTERPRISE in caller.permissions:
        return config.enterprise_interval_s
    if caller.permissions <= {READ_ALL}:
        return config.read_only_interval_s
    return config.interval_s


class _Slots:
    """When each customer key's next slot opens, on the event loop's monotonic clock.

    Reads and writes happen with no await between them, so concurrent requests cannot both
    take one slot.
    """

    def __init__(self) -> None:
        self._next_open_at: dict[str, float] = {}

    def take_now(self, key: str, now: float, interval_s: float) -> float:
        """Take the slot if it is open and return 0, else return the seconds until it opens."""
        open_at = self._next_open_at.get(key, now)
        if open_at > now:
            return open_at - now
        self._next_open_at[key] = now + interval_s
        return 0.0

    def hold(self, key: str) -> None:
        """The replies reading: the key's next slot opens only once its request has replied."""
        self._next_open_at[key] = math.inf

    def open_after(self, key: str, replied_at: float, interval_s: float) -> None:
        self._next_open_at[key] = replied_at + interval_s

    def reserve(self, key: str, now: float, interval_s: float) -> float:
        """Reserve the next free slot and return the seconds to wait for it."""
        start_at = max(now, self._next_open_at.get(key, now))
        self._next_open_at[key] = start_at + interval_s
        return start_at - now


def _over_limit_response(
    config: ThrottleConfig, wait_s: float, interval_s: float
) -> web.Response:
    response = error_response(config.reject_status, config.reject_body)
    # A key whose request is still running (replies reading) is told one slot.
    retry_s = interval_s if math.isinf(wait_s) else wait_s
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_s)))
    return response


class ThrottleCounts:
    """What the throttle did since the simulator started, served at ``GET /admin/throttle``.

    A benchmark counts the throttle replies a writer received from the simulator's side, and
    reads the cycle of a busy key as Open Dental sees it: how far apart its accepted requests
    started, and how long each ran after taking its slot. A client that paces from replies
    waits that running time out on top of every slot, so the two explain what share of the
    allowance it gets.
    """

    def __init__(self) -> None:
        self.passed = 0  # throttled-mode requests let through at once
        self.rejected = 0  # answered with the over-limit reply
        self.queued = 0  # held until their slot (reply = queue)
        self.busy_gaps = 0  # starts that came under BUSY_GAP_SLOTS slots after the key's last
        self.busy_gap_s = 0.0  # the sum of those gaps
        self.handled = 0  # throttled requests run to the end after taking their slot
        self.handling_s = 0.0  # the sum of their times from the slot to the handler's end
        self._last_start_at: dict[str, float] = {}

    def count(self, *, queued: bool) -> None:
        if queued:
            self.queued += 1
        else:
            self.passed += 1

    def started(self, key: str, at: float, interval_s: float) -> None:
        """A request on ``key`` took its slot at ``at``."""
        last_at = self._last_start_at.get(key)
        self._last_start_at[key] = at
        # A longer gap means the key had nothing to send for a while, not that it was paced.
        if last_at is not None and at - last_at < BUSY_GAP_SLOTS * interval_s:
            self.busy_gaps += 1
            self.busy_gap_s += at - last_at

    def ran(self, seconds: float) -> None:
        """A request that took its slot ran this long after it (handler and middlewares)."""
        self.handled += 1
        self.handling_s += seconds

    def admin_routes(self) -> list[web.RouteDef]:
        return [web.get("/admin/throttle", self._get_admin)]

    async def _get_admin(self, request: web.Request) -> web.Response:
        return web.json_response({
            "passed": self.passed,
            "rejected": self.rejected,
            "queued": self.queued,
            "busy_gaps": self.busy_gaps,
            "busy_gap_s": self.busy_gap_s,
            "handled": self.handled,
            "handling_s": self.handling_s,
        })


def throttle_middleware(
    config: ThrottleConfig, counts: ThrottleCounts | None = None
) -> Middleware:
    """An aiohttp middleware, placed after auth, that throttles Remote-mode callers per key."""
    # Imported here, not at the top: odsim.auth imports odsim.config, which imports this module.
    from odsim.auth import CALLER_KEY

    slots = _Slots()
    tally = counts or ThrottleCounts()

    @web.middleware
    async def throttle(request: web.Request, handler: Handler) -> web.StreamResponse:
        caller: Caller | None = request.get(CALLER_KEY)
        interval_s = None if caller is None else slot_interval_s(config, caller)
        if caller is None or interval_s is None:
            return await handler(request)
        loop = asyncio.get_running_loop()
        now = loop.time()
        if config.reply is OverLimitReply.QUEUE:
            wait_s = slots.reserve(caller.customer_key, now, interval_s)
            tally.count(queued=wait_s > 0)
            await asyncio.sleep(wait_s)
        else:
            wait_s = slots.take_now(caller.customer_key, now, interval_s)
            if wait_s > 0:
                tally.rejected += 1
                return _over_limit_response(config, wait_s, interval_s)
            tally.passed += 1
            if config.reading is Reading.REPLIES:
                slots.hold(caller.customer_key)
        started_at = now + wait_s
        tally.started(caller.customer_key, started_at, interval_s)
        try:
            return await handler(request)
        finally:
            replied_at = loop.time()
            tally.ran(replied_at - started_at)
            if config.reading is Reading.REPLIES:
                slots.open_after(caller.customer_key, replied_at, interval_s)

    return throttle
