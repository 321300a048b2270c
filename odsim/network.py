"""The network between a writer and Open Dental, per customer key, as an aiohttp middleware.

A remote office is reached through Open Dental's servers and the office's eConnector, so a
request spends time on the way in (the request leg) before Open Dental registers it, and its
reply spends time on the way back (the reply leg) after Open Dental sent it. The middleware sits
outside the throttle: the throttle sees a request once its request leg is over and its reply
leaves before the reply leg, as Open Dental's own clock would. Each leg waits a fixed time plus
a uniform draw up to its jitter, from one ``random.Random(seed)`` in arrival order.

``GET /admin/network`` serves what the legs did, with the simulator's own timestamps of the
latest requests (on the event loop's monotonic clock), so a test checks the legs without
timing anything itself.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from odsim.auth import Caller

RECENT_REQUESTS = 256  # the latest requests whose timestamps /admin/network shows


class Latency(BaseModel):
    """The time each leg of a request takes, in milliseconds: fixed plus uniform jitter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_ms: float = Field(default=0.0, ge=0)  # writer → Open Dental, before it registers
    request_jitter_ms: float = Field(default=0.0, ge=0)  # plus uniform 0..this
    reply_ms: float = Field(default=0.0, ge=0)  # Open Dental → writer, after it replied
    reply_jitter_ms: float = Field(default=0.0, ge=0)

    @property
    def none(self) -> bool:
        return not (self.request_ms or self.request_jitter_ms or self.reply_ms
                    or self.reply_jitter_ms)


@dataclass(frozen=True, kw_only=True)
class LegTimes:
    """One request as the simulator saw it: what it drew for each leg, and when (loop time) it
    arrived, went in after its request leg, had its reply, and sent it after the reply leg."""

    status: int
    request_ms: float
    reply_ms: float
    arrived_at: float
    registered_at: float
    replied_at: float
    sent_at: float


class Network:
    """The legs of every customer key's requests: ``latency`` for the keys not named in
    ``per_key``."""

    def __init__(
        self, latency: Latency, per_key: Iterable[tuple[str, Latency]], seed: int | None
    ) -> None:
        self._default = latency
        self._per_key = dict(per_key)
        self._rng = random.Random(seed)
        self.recent: deque[LegTimes] = deque(maxlen=RECENT_REQUESTS)
        self.requests = 0
        self.request_leg_s = 0.0  # drawn, summed
        self.reply_leg_s = 0.0

    def latency_of(self, customer_key: str) -> Latency:
        return self._per_key.get(customer_key, self._default)

    def draw_ms(self, latency: Latency) -> tuple[float, float]:
        # Two draws in this order for every request, so the sequence depends on arrivals only.
        request_u, reply_u = self._rng.random(), self._rng.random()
        return (latency.request_ms + request_u * latency.request_jitter_ms,
                latency.reply_ms + reply_u * latency.reply_jitter_ms)

    def record(self, times: LegTimes) -> None:
        self.requests += 1
        self.request_leg_s += times.request_ms / 1000
        self.reply_leg_s += times.reply_ms / 1000
        self.recent.append(times)

    def admin_routes(self) -> list[web.RouteDef]:
        return [web.get("/admin/network", self._get_admin)]

    async def _get_admin(self, request: web.Request) -> web.Response:
        return web.json_response({
            "requests": self.requests,
            "request_leg_s": self.request_leg_s,
            "reply_leg_s": self.reply_leg_s,
            "recent": [asdict(times) for times in self.recent],
        })

    def middleware(self) -> Middleware:
        """Placed right after auth (a leg's length depends on the key), before the throttle."""
        # Imported here, not at the top: odsim.auth imports odsim.config, which imports this.
        from odsim.auth import CALLER_KEY

        @web.middleware
        async def network(request: web.Request, handler: Handler) -> web.StreamResponse:
            caller: Caller | None = request.get(CALLER_KEY)
            latency = None if caller is None else self.latency_of(caller.customer_key)
            if latency is None or latency.none:
                return await handler(request)
            return await self._across(request, handler, latency)

        return network

    async def _across(
        self, request: web.Request, handler: Handler, latency: Latency
    ) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        request_ms, reply_ms = self.draw_ms(latency)
        arrived_at = loop.time()
        await asyncio.sleep(request_ms / 1000)
        registered_at = loop.time()
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # an error reply travels back like any other
            response = exc
        replied_at = loop.time()
        await asyncio.sleep(reply_ms / 1000)
        self.record(LegTimes(
            status=response.status, request_ms=request_ms, reply_ms=reply_ms,
            arrived_at=arrived_at, registered_at=registered_at, replied_at=replied_at,
            sent_at=loop.time(),
        ))
        if isinstance(response, web.HTTPException):
            raise response
        return response
