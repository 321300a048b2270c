"""The writer's observability endpoints over aiohttp, served from a thread of their own.

The server has its own thread and event loop so that it answers while the writer's loop does
not: ``/healthz`` must say "stalled" while the stall lasts, and a scrape must never wait for a
busy loop nor stop it.

- ``GET /metrics``: the injected registry in Prometheus' text format (OpenMetrics if asked),
  written by the families themselves when the registry is a ``FamilyRegistry`` of nothing else
  (exposition.py), and in a worker thread: with a thousand offices even that is about 0.1 s
  of CPU, during which ``/healthz`` still answers.
- ``GET /healthz``: 200 while the writer's event loop beats and every lane makes progress
  (liveness.py), else 503; both with a JSON body naming each failing check and why.
- ``GET /readyz``: 200 when every injected readiness check passes within the time limit, else
  503; both with a JSON body naming each check's result. The checks use the writer's broker
  connection and database pool, which belong to the writer's loop: they run there, and a loop
  that does not answer in time fails every check as ``timeout``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from hub.observability.constants import READINESS_TIMEOUT_S
from hub.observability.exposition import FamilyRegistry
from hub.observability.liveness import Liveness, LivenessLimits
from hub.observability.readiness import CheckResult, ReadinessCheck, run_checks

OPENMETRICS_TYPE = "application/openmetrics-text"
# The checks' own limit runs on the writer's loop; this much more and that loop is not answering.
HOME_LOOP_MARGIN_S = 0.5
TIMEOUT = "timeout"


def local_url(host: str, port: int) -> str:
    """Where a client on this machine reaches a server bound to ``host:port``."""
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ObservabilityServer:
    """Serves one registry, one liveness and one set of readiness checks; ``start`` (on the
    writer's loop: the checks run there) binds, ``stop`` closes."""

    def __init__(
        self,
        registry: CollectorRegistry,
        checks: Mapping[str, ReadinessCheck],
        *,
        host: str,
        port: int,
        liveness: Liveness,
        readiness_timeout_s: float = READINESS_TIMEOUT_S,
    ) -> None:
        self._registry = registry
        self._checks = dict(checks)
        self._host = host
        self._port = port
        self._liveness = liveness
        self._timeout_s = readiness_timeout_s
        self._home: asyncio.AbstractEventLoop | None = None  # the writer's loop
        self._thread: threading.Thread | None = None
        self._started: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._stopped: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._stop: Callable[[], None] | None = None
        self._bound_port: int | None = None

    @property
    def port(self) -> int:
        """The port bound (useful when asked for port 0)."""
        if self._bound_port is None:
            raise RuntimeError("the server is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        return local_url(self._host, self.port)

    async def start(self) -> None:
        self._home = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._serve, name="observability", daemon=True)
        self._thread.start()
        self._bound_port = await asyncio.wrap_future(self._started)

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None
            await asyncio.wrap_future(self._stopped)

    def _serve(self) -> None:
        """The server thread: its own loop, until ``stop``."""
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to whoever waits; the thread ends either way
            for future in (self._started, self._stopped):
                if not future.done():
                    future.set_exception(exc)
        else:
            self._stopped.set_result(None)

    async def _main(self) -> None:
        stopping = asyncio.Event()
        runner = web.AppRunner(self._app(), access_log=None)
        await runner.setup()
        try:
            sock = socket.create_server((self._host, self._port))
            await web.SockSite(runner, sock).start()
            loop = asyncio.get_running_loop()

            def stop() -> None:
                loop.call_soon_threadsafe(stopping.set)

            self._stop = stop
            self._started.set_result(sock.getsockname()[1])
            await stopping.wait()
        finally:
            await runner.cleanup()

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        return app

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
        health = self._liveness.health()
        body = {"alive": health.alive, "failing": health.failing(), "checks": health.checks()}
        return web.json_response(body, status=200 if health.alive else 503)

    async def _readyz(self, _request: web.Request) -> web.Response:
        results = await self._on_home_loop()
        failing = [result.name for result in results if not result.ok]
        body = {
            "ready": not failing,
            "failing": failing,
            "checks": {result.name: result.detail for result in results},
        }
        return web.json_response(body, status=503 if failing else 200)

    async def _on_home_loop(self) -> list[CheckResult]:
        """The checks' results, run on the writer's loop; each ``timeout`` if it is stalled."""
        assert self._home is not None
        checking = asyncio.run_coroutine_threadsafe(
            run_checks(self._checks, self._timeout_s), self._home
        )
        try:
            async with asyncio.timeout(self._timeout_s + HOME_LOOP_MARGIN_S):
                return await asyncio.wrap_future(checking)
        except TimeoutError:
            checking.cancel()
            names = sorted(self._checks)
            return [CheckResult(name=name, ok=False, detail=TIMEOUT) for name in names]


@asynccontextmanager
async def serving(
    registry: CollectorRegistry,
    checks: Mapping[str, ReadinessCheck],
    *,
    host: str,
    port: int,
    liveness: Liveness | None = None,
    readiness_timeout_s: float = READINESS_TIMEOUT_S,
) -> AsyncIterator[ObservabilityServer]:
    """The server, started for the block and stopped after it, with the heartbeat of the loop
    it is entered on (the writer's). Without ``liveness``, one with the default limits and no
    lanes: /healthz then watches the loop alone."""
    watched = liveness or Liveness(LivenessLimits())
    server = ObservabilityServer(
        registry, checks, host=host, port=port, liveness=watched,
        readiness_timeout_s=readiness_timeout_s,
    )
    async with watched.watching_loop():
        await server.start()
        try:
            yield server
        finally:
            await server.stop()
