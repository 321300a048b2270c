"""The writer's observability endpoints over aiohttp.

- ``GET /metrics``: the injected registry in Prometheus' text format (OpenMetrics if asked),
  written by the families themselves when the registry is a ``FamilyRegistry`` of nothing else
  (exposition.py), and in a worker thread: with a thousand offices even that is about 0.1 s
  of CPU, and on the event loop every scrape would stop every lane, their replies and their
  throttle slots with them.
- ``GET /healthz``: 200 while the process's event loop runs (it answers, so it runs).
- ``GET /readyz``: 200 when every injected readiness check passes within the time limit, else
  503; both with a JSON body naming each check's result.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from hub.observability.constants import READINESS_TIMEOUT_S
from hub.observability.exposition import FamilyRegistry
from hub.observability.readiness import ReadinessCheck, run_checks

OPENMETRICS_TYPE = "application/openmetrics-text"


class ObservabilityServer:
    """Serves one registry and one set of readiness checks; ``start`` binds, ``stop`` closes."""

    def __init__(
        self,
        registry: CollectorRegistry,
        checks: Mapping[str, ReadinessCheck],
        *,
        host: str,
        port: int,
        readiness_timeout_s: float = READINESS_TIMEOUT_S,
    ) -> None:
        self._registry = registry
        self._checks = dict(checks)
        self._host = host
        self._port = port
        self._timeout_s = readiness_timeout_s
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None

    @property
    def port(self) -> int:
        """The port bound (useful when asked for port 0)."""
        if self._bound_port is None:
            raise RuntimeError("the server is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.create_server((self._host, self._port))
        self._bound_port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = await asyncio.to_thread(self._render, encoder, content_type)
        return web.Response(body=body, headers={"Content-Type": content_type})

    def _render(self, encoder: Callable[[CollectorRegistry], bytes], content_type: str) -> bytes:
        """In a worker thread: the families lock their series while they are read."""
        if isinstance(self._registry, FamilyRegistry):
            openmetrics = content_type.startswith(OPENMETRICS_TYPE)
            body = self._registry.exposition(openmetrics=openmetrics)
            if body is not None:
                return body
        return encoder(self._registry)

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def _readyz(self, _request: web.Request) -> web.Response:
        results = await run_checks(self._checks, self._timeout_s)
        failing = [result.name for result in results if not result.ok]
        body = {
            "ready": not failing,
            "failing": failing,
            "checks": {result.name: result.detail for result in results},
        }
        return web.json_response(body, status=503 if failing else 200)


@asynccontextmanager
async def serving(
    registry: CollectorRegistry,
    checks: Mapping[str, ReadinessCheck],
    *,
    host: str,
    port: int,
    readiness_timeout_s: float = READINESS_TIMEOUT_S,
) -> AsyncIterator[ObservabilityServer]:
    """The server, started for the block and stopped after it."""
    server = ObservabilityServer(
        registry, checks, host=host, port=port, readiness_timeout_s=readiness_timeout_s
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
