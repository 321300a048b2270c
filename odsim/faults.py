"""Fault injection for the simulated Open Dental API, set per run and at run time.

The faults are the ways the real API fails a writer (opendental-api.md §2–3): added latency, a
500, a 504 "Gateway Time-out" after a delay with nothing written, an eConnector-down window of
400s, and commit-then-drop (the write is committed, then the connection closes without a byte
of response, as when a response is lost on the way back). ``hold`` keeps every request in scope
waiting, unanswered, until a config without it is set: an office as slow as a test needs,
released when the test says, without any clock.

Determinism: one ``random.Random(seed)`` draws the same four numbers for every request in scope,
in arrival order, whichever faults are enabled, so the same seed and the same requests give the
same faults. ``set`` restarts the sequence, the eConnector window and the counters.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from odsim.errors import error_response

if TYPE_CHECKING:
    from odsim.auth import Caller

log = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Open Dental's exact wording is UNCONFIRMED; it names the eConnector, as the hub expects.
ECONNECTOR_DOWN_MESSAGE = "eConnector is not running. The office must start the eConnector."
SERVER_ERROR_MESSAGE = "An error has occurred."
GATEWAY_TIMEOUT_MESSAGE = "Gateway Time-out"
DROPPED_STATUS = 444  # nginx's "closed without response": what the access log shows for a drop


class FaultConfig(BaseModel):
    """Which faults to inject; every field defaults to "none"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int | None = None  # None: a fresh, unrepeatable sequence
    latency_ms: int = Field(default=0, ge=0)  # added to every request in scope
    latency_random_ms: int = Field(default=0, ge=0)  # plus uniform 0..latency_random_ms
    rate_500: float = Field(default=0.0, ge=0, le=1)
    rate_504: float = Field(default=0.0, ge=0, le=1)
    delay_504_s: float = Field(default=60.0, ge=0)  # Open Dental's limit before its 504
    econnector_down_s: float = Field(default=0.0, ge=0)  # from the moment the config is set
    rate_commit_then_drop: float = Field(default=0.0, ge=0, le=1)  # writes only, by nature
    customer_keys: tuple[str, ...] | None = None  # None: every key
    writes_only: bool = False
    hold: bool = False  # requests in scope wait unanswered until a config without it is set


class InjectedFault(StrEnum):
    LATENCY = "latency"
    HTTP_500 = "http_500"
    HTTP_504 = "http_504"
    ECONNECTOR_DOWN = "econnector_down"
    COMMIT_THEN_DROP = "commit_then_drop"
    HOLD = "hold"


@dataclass(frozen=True, kw_only=True)
class _Draw:
    """The faults one request gets, drawn before any of them is applied."""

    latency_ms: float
    fail_500: bool
    fail_504: bool
    drop: bool


def _draw(rng: random.Random, config: FaultConfig) -> _Draw:
    # Always four draws in this order, so enabling one fault does not shift the others.
    latency_u, u_500, u_504, u_drop = (rng.random() for _ in range(4))
    return _Draw(
        latency_ms=config.latency_ms + latency_u * config.latency_random_ms,
        fail_500=u_500 < config.rate_500,
        fail_504=u_504 < config.rate_504,
        drop=u_drop < config.rate_commit_then_drop,
    )


class _DroppedResponse(web.StreamResponse):
    """Closes the connection instead of sending anything.

    aiohttp treats the ConnectionResetError from ``prepare`` as a client that went away: it
    writes nothing, logs no traceback and ends the connection's loop.
    """

    def __init__(self) -> None:
        super().__init__(status=DROPPED_STATUS)

    async def prepare(self, request: web.BaseRequest) -> None:
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("connection dropped by fault injection")


class FaultController:
    """Holds the fault config, applies it as middleware and serves /admin/faults."""

    def __init__(self, config: FaultConfig) -> None:
        self._counts: Counter[InjectedFault] = Counter()
        self._changed = asyncio.Event()  # set, and replaced, whenever the config is set
        self.set(config)
        self.middleware: Middleware = self._build_middleware()

    @property
    def config(self) -> FaultConfig:
        return self._config

    @property
    def injected(self) -> Mapping[InjectedFault, int]:
        """How many of each fault were injected since the config was last set."""
        return {fault: self._counts[fault] for fault in InjectedFault}

    def set(self, config: FaultConfig) -> None:
        self._config = config
        self._rng = random.Random(config.seed)
        self._down_until = time.monotonic() + config.econnector_down_s
        self._counts.clear()
        self._changed.set()  # the held requests look again
        self._changed = asyncio.Event()

    def econnector_down_remaining_s(self) -> float:
        return max(0.0, self._down_until - time.monotonic())

    def admin_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/admin/faults", self._get_admin),
            web.put("/admin/faults", self._put_admin),
        ]

    def _in_scope(self, request: web.Request, caller: Caller | None) -> bool:
        config = self._config
        if caller is None:  # not an Open Dental API call (e.g. /admin)
            return False
        if config.customer_keys is not None and caller.customer_key not in config.customer_keys:
            return False
        return not config.writes_only or request.method in WRITE_METHODS

    def _count(self, request: web.Request, fault: InjectedFault) -> None:
        self._counts[fault] += 1
        log.info(
            "fault injected",
            extra={"fault": fault.value, "method": request.method, "path": request.path},
        )

    def _build_middleware(self) -> Middleware:
        # Imported here, not at the top: odsim.auth imports odsim.config, which imports this module.
        from odsim.auth import CALLER_KEY

        @web.middleware
        async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
            caller = request.get(CALLER_KEY)
            await self._held(request, caller)
            if not self._in_scope(request, caller):
                return await handler(request)
            return await self._apply(request, handler, _draw(self._rng, self._config))

        return faults

    async def _held(self, request: web.Request, caller: Caller | None) -> None:
        """While the config holds the request's scope, wait for the config to change."""
        if not (self._config.hold and self._in_scope(request, caller)):
            return
        self._count(request, InjectedFault.HOLD)
        while self._config.hold and self._in_scope(request, caller):
            await self._changed.wait()

    async def _apply(
        self, request: web.Request, handler: Handler, draw: _Draw
    ) -> web.StreamResponse:
        if self.econnector_down_remaining_s() > 0:
            self._count(request, InjectedFault.ECONNECTOR_DOWN)
            return error_response(400, ECONNECTOR_DOWN_MESSAGE)
        if draw.latency_ms > 0:
            self._count(request, InjectedFault.LATENCY)
            await asyncio.sleep(draw.latency_ms / 1000)
        if draw.fail_500:
            self._count(request, InjectedFault.HTTP_500)
            return error_response(500, SERVER_ERROR_MESSAGE)
        if draw.fail_504:
            self._count(request, InjectedFault.HTTP_504)
            await asyncio.sleep(self._config.delay_504_s)
            return error_response(504, GATEWAY_TIMEOUT_MESSAGE)
        response = await handler(request)
        if draw.drop and request.method in WRITE_METHODS:
            self._count(request, InjectedFault.COMMIT_THEN_DROP)
            return _DroppedResponse()
        return response

    def _admin_view(self) -> dict[str, object]:
        return {
            "config": self._config.model_dump(mode="json"),
            "injected": {fault.value: count for fault, count in self.injected.items()},
            "econnector_down_remaining_s": round(self.econnector_down_remaining_s(), 3),
        }

    async def _get_admin(self, request: web.Request) -> web.Response:
        return web.json_response(self._admin_view())

    async def _put_admin(self, request: web.Request) -> web.Response:
        try:
            config = FaultConfig.model_validate_json(await request.read())
        except ValidationError as exc:
            return web.json_response(
                {"errors": exc.errors(include_url=False, include_context=False)}, status=400
            )
        self.set(config)
        return web.json_response(self._admin_view())
