"""/metrics, /healthz and /readyz over real HTTP, with real readiness checks (liveness under
stalls and stuck lanes: test_liveness.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import aio_pika
import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from hub.observability import HubMetrics, ReadinessCheck, serving
from hub.observability.readiness import run_checks
from hub.observability.writer_checks import broker_connected
from hub.settings import HubSettings
from tests.observability.conftest import BOUNDS


async def _passes() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("amqp://guest:secret@broker: refused")


async def _hangs() -> None:
    await asyncio.Event().wait()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def test_metrics_serves_the_injected_registry(
    registry: CollectorRegistry, client: httpx.AsyncClient
) -> None:
    # Given a server on a free port over a catalogue that counted one intent
    metrics = HubMetrics(registry, BOUNDS)
    metrics.intent_received("acme", "office-1", "patient.create")
    async with serving(registry, {}, host="127.0.0.1", port=0) as server:
        # When Prometheus scrapes it
        reply = await client.get(f"{server.url}/metrics")
    # Then it gets the text format with the counted series, and nothing of the default registry
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    line = 'hub_intents_received_total{contract="patient.create",office="office-1",vendor="acme"}'
    assert f"{line} 1.0" in reply.text
    assert "python_gc_objects_collected_total" not in reply.text


async def test_metrics_speaks_openmetrics_when_asked(
    registry: CollectorRegistry, client: httpx.AsyncClient
) -> None:
    # Given a server, When a scraper asks for OpenMetrics
    async with serving(registry, {}, host="127.0.0.1", port=0) as server:
        reply = await client.get(
            f"{server.url}/metrics", headers={"Accept": "application/openmetrics-text"}
        )
    # Then it gets OpenMetrics, which ends with # EOF
    assert reply.headers["content-type"].startswith("application/openmetrics-text")
    assert reply.text.endswith("# EOF\n")


class _WaitsForTheLoop:
    """A collector whose collection waits (up to 5 s) for the event loop to release it, and
    reports whether it was released: like a long render, it needs the loop to go on meanwhile."""

    def __init__(self) -> None:
        self.collecting = threading.Event()
        self.released = threading.Event()

    def collect(self) -> Iterator[Metric]:
        self.collecting.set()
        released = self.released.wait(timeout=5)
        yield GaugeMetricFamily("test_loop_ran_during_render", "1 if released", value=released)


async def test_a_scrape_does_not_stop_the_event_loop(client: httpx.AsyncClient) -> None:
    # Given a registry whose rendering lasts until something on the event loop releases it
    registry = CollectorRegistry()
    slow = _WaitsForTheLoop()
    registry.register(slow)

    async def release_once_rendering() -> None:
        await asyncio.to_thread(slow.collecting.wait, 5)
        slow.released.set()

    async with serving(registry, {}, host="127.0.0.1", port=0) as server:
        # When Prometheus scrapes while the loop has other work to do
        releasing = asyncio.create_task(release_once_rendering())
        reply = await client.get(f"{server.url}/metrics")
        await releasing
    # Then the loop ran during the render (a render on the loop would have held it for 5 s)
    assert "test_loop_ran_during_render 1.0" in reply.text


async def test_healthz_answers_while_the_loop_runs(
    registry: CollectorRegistry, client: httpx.AsyncClient
) -> None:
    # Given a server whose only readiness check fails
    async with serving(registry, {"broker": _refused}, host="127.0.0.1", port=0) as server:
        # When liveness is asked
        reply = await client.get(f"{server.url}/healthz")
    # Then it is alive all the same: liveness is not readiness
    assert reply.status_code == 200
    assert reply.json() == {
        "alive": True, "failing": [], "checks": {"event_loop": "ok", "lanes": "ok"},
    }


async def test_readyz_is_200_when_every_check_passes(
    registry: CollectorRegistry, client: httpx.AsyncClient
) -> None:
    # Given a check on a real broker connection, and one that passes
    url = HubSettings().broker_url.get_secret_value()
    async with await aio_pika.connect(url) as connection:
        checks: dict[str, ReadinessCheck] = {
            "broker": broker_connected(connection), "hub_db": _passes,
        }
        async with serving(registry, checks, host="127.0.0.1", port=0) as server:
            # When readiness is asked
            reply = await client.get(f"{server.url}/readyz")
    # Then it is ready, naming each check
    assert reply.status_code == 200
    assert reply.json() == {
        "ready": True, "failing": [], "checks": {"broker": "ok", "hub_db": "ok"},
    }


async def test_readyz_is_503_naming_failed_and_slow_checks(
    registry: CollectorRegistry, client: httpx.AsyncClient
) -> None:
    # Given one check that passes, one that is refused, and one that never answers
    checks: dict[str, ReadinessCheck] = {
        "hub_db": _passes,
        "broker": _refused,
        "registry": _hangs,
    }
    async with serving(
        registry, checks, host="127.0.0.1", port=0, readiness_timeout_s=0.2
    ) as server:
        # When readiness is asked
        reply = await client.get(f"{server.url}/readyz")
    # Then it is 503 naming both failures by check, and no exception text (it could hold
    # credentials) leaks
    assert reply.status_code == 503
    assert reply.json() == {
        "ready": False,
        "failing": ["broker", "registry"],
        "checks": {"broker": "ConnectionRefusedError", "hub_db": "ok", "registry": "timeout"},
    }
    assert "secret" not in reply.text


async def test_run_checks_reports_a_check_bug_as_not_ready() -> None:
    # Given a check that fails with a programming error
    async def broken() -> None:
        raise KeyError("oops")

    # When the checks run, Then the result names its class instead of crashing /readyz
    results = await run_checks({"broken": broken}, timeout_s=1.0)
    assert [(r.name, r.ok, r.detail) for r in results] == [("broken", False, "KeyError")]

