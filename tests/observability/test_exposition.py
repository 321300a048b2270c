"""The families' own exposition is byte for byte what prometheus_client's encoders write."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import prometheus_client
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.openmetrics import exposition as openmetrics

from hub.observability import FamilyRegistry, HubMetrics, serving
from hub.observability.families import Counter, Gauge, Histogram
from tests.observability.conftest import BOUNDS

# Typed here: prometheus_client leaves it untyped.
openmetrics_latest: Callable[[CollectorRegistry], bytes] = openmetrics.generate_latest
AMOUNTS = (0.0, 0.0004, 0.05, 1.0, 59.9, 60.0, 1234567.0, 1e4, float("inf"), float("nan"), -2.5)
AWKWARD = 'quote " backslash \\ newline \n end'


def _drive(registry: FamilyRegistry) -> None:
    """Every kind of family, labels in and out of sorted order, around ``le`` and escaped."""
    counter = Counter("hub_t", f"Counted, {AWKWARD}.", ["zone", "office"], registry=registry)
    gauge = Gauge("hub_g", "Gauged.", ["office"], registry=registry)
    around_le = Histogram(
        "hub_h_seconds", "Timed.", ["office", "contract"], buckets=(0.001, 1.0, 60.0),
        registry=registry,
    )
    after_le = Histogram("hub_a_seconds", "", ["a"], buckets=(1.0,), registry=registry)
    bare = Gauge("hub_bare", "No labels.", registry=registry)
    Counter("hub_unused", "Never counted.", ["office"], registry=registry)
    for i, amount in enumerate(AMOUNTS):
        office = f"office-{i % 3}"
        counter.labels(AWKWARD if i == 4 else "z", office).inc(i)
        gauge.labels(office).set(amount)
        if amount >= 0 or amount != amount:
            around_le.labels(office, "patient.create").observe(amount)
            after_le.labels(AWKWARD).observe(amount)
    bare.set(7)


@pytest.fixture
def registry() -> FamilyRegistry:
    registry = FamilyRegistry()
    _drive(registry)
    HubMetrics(registry, BOUNDS).intent_received("acme", "office-1", "patient.create")
    return registry


def test_the_text_format_is_prometheus_clients(registry: FamilyRegistry) -> None:
    assert registry.exposition(openmetrics=False) == generate_latest(registry)


def test_openmetrics_is_prometheus_clients(registry: FamilyRegistry) -> None:
    assert registry.exposition(openmetrics=True) == openmetrics_latest(registry)


@pytest.fixture
def no_created_series() -> Iterator[None]:
    prometheus_client.disable_created_metrics()
    try:
        yield
    finally:
        prometheus_client.enable_created_metrics()


@pytest.mark.usefixtures("no_created_series")
def test_without_created_series_both_formats_still_match(registry: FamilyRegistry) -> None:
    assert registry.exposition(openmetrics=False) == generate_latest(registry)
    assert registry.exposition(openmetrics=True) == openmetrics_latest(registry)
    assert b"_created" not in (registry.exposition(openmetrics=True) or b"")


class _Foreign:
    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("test_foreign", "Not a family.", value=1)


async def test_a_foreign_collector_is_served_by_prometheus_client() -> None:
    # Given the hub's families and a collector of another kind in one registry
    registry = FamilyRegistry()
    _drive(registry)
    registry.register(_Foreign())
    # When it is scraped
    async with serving(registry, {}, host="127.0.0.1", port=0) as server, httpx.AsyncClient(
        timeout=10
    ) as client:
        reply = await client.get(f"{server.url}/metrics")
    # Then the families' own exposition stands aside, and nothing is missing
    assert registry.exposition(openmetrics=False) is None
    assert "test_foreign 1.0" in reply.text
    assert reply.content == generate_latest(registry)


class _Counting(FamilyRegistry):
    """Notes which formats the families wrote themselves."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bool] = []

    def exposition(self, *, openmetrics: bool) -> bytes | None:
        self.written.append(openmetrics)
        return super().exposition(openmetrics=openmetrics)


async def test_the_writers_metrics_are_written_by_the_families_in_either_format() -> None:
    # Given a registry of the hub's families only
    registry = _Counting()
    _drive(registry)
    # When Prometheus scrapes it in the text format, then in OpenMetrics
    async with serving(registry, {}, host="127.0.0.1", port=0) as server, httpx.AsyncClient(
        timeout=10
    ) as client:
        text = await client.get(f"{server.url}/metrics")
        om = await client.get(
            f"{server.url}/metrics", headers={"Accept": "application/openmetrics-text"}
        )
    # Then the families wrote both, and each is what prometheus_client would have written
    assert registry.written == [False, True]
    assert text.content == generate_latest(registry)
    assert om.content == openmetrics_latest(registry)
    assert om.headers["content-type"].startswith("application/openmetrics-text")
