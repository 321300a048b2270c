"""The compact families expose exactly what prometheus_client's own classes expose."""

from __future__ import annotations

import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics

from hub.observability import families

AMOUNTS = (0.0, 0.0004, 0.001, 0.05, 1.0, 3.3, 59.9, 60.0, 61.0, 1e4, float("inf"), float("nan"))
BUCKETS = (0.001, 0.05, 1.0, 60.0)
# Typed here: prometheus_client leaves it untyped.
openmetrics_latest: Callable[[CollectorRegistry], bytes] = openmetrics.generate_latest
# Either library's metric objects: the two share only the methods driven here.
Metric = Any


def _exposition(registry: CollectorRegistry) -> str:
    """Both formats, with the ``_created`` timestamps (creation times) masked."""
    text = (generate_latest(registry) + openmetrics_latest(registry)).decode()
    return re.sub(r"(_created(\{[^}]*\})?) \S+", r"\1 T", text)


def _drive(counter: Metric, gauge: Metric, histogram: Metric, bare: Metric) -> None:
    for i, amount in enumerate(AMOUNTS):
        office = f"office-{i % 3}"
        counter.labels(office, "applied").inc(i)
        gauge.labels(office).set(amount if amount == amount else 0)
        gauge.labels("office-9").inc(-1)
        histogram.labels(office).observe(amount)
    counter.labels("office-1", "dead")  # primed, never counted
    histogram.labels("office-5")
    bare.set(7)


def _families(registry: CollectorRegistry, kind: ModuleType) -> tuple[Metric, ...]:
    counter = kind.Counter("hub_t", "Counted.", ["office", "outcome"], registry=registry)
    gauge = kind.Gauge("hub_g", "Gauged.", ["office"], registry=registry)
    histogram = kind.Histogram(
        "hub_h_seconds", "Timed.", ["office"], buckets=BUCKETS, registry=registry
    )
    bare = kind.Gauge("hub_bare", "No labels.", registry=registry)
    return counter, gauge, histogram, bare


def test_the_exposition_is_prometheus_clients() -> None:
    # Given the same metrics as prometheus_client's classes and as the hub's compact families
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    # When both see the same events (edge amounts, NaN, +Inf, a series primed and never used)
    _drive(*_families(theirs, prometheus_client))
    _drive(*_families(ours, families))
    # Then both formats expose the same samples, labels and order
    assert _exposition(ours) == _exposition(theirs)
    assert ours.get_sample_value("hub_h_seconds_count", {"office": "office-0"}) == 4


def test_a_family_refuses_what_prometheus_client_refuses() -> None:
    # Given a compact counter and histogram
    registry = CollectorRegistry()
    counter = families.Counter("hub_c", "Counted.", ["office"], registry=registry)
    # Then a wrong label count, a negative increment, unsorted buckets and a name taken fail
    with pytest.raises(ValueError):
        counter.labels("a", "b")
    with pytest.raises(ValueError):
        counter.labels("a").inc(-1)
    with pytest.raises(ValueError):
        families.Histogram("hub_u", "Unsorted.", buckets=(2.0, 1.0), registry=registry)
    with pytest.raises(ValueError):
        families.Counter("hub_c", "Again.", ["office"], registry=registry)
