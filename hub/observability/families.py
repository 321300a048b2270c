"""Metric families that keep their series compactly, for a writer with a thousand offices.

prometheus_client's ``Counter``, ``Gauge`` and ``Histogram`` hold every labelled series as an
object of a dozen attributes with a lock per value (a histogram series, one per bucket): 1–3 KB
a series. The hub primes a dozen series per office and agreement (hub/observability/metrics.py),
so with 1,000 offices that was about 20 MB of the writer's memory before any traffic. A family
here keeps each series as one list of floats in one dict under one lock, and its ``collect``
yields exactly the samples prometheus_client's classes yield (names, labels and their order,
cumulative ``le`` buckets, ``_count``, ``_sum``, ``_created``): the exposition is unchanged.
The writer's /metrics skips those sample objects: hub/observability/exposition.py writes the
same bytes from ``snapshot`` and ``samples`` directly.

Only what ``HubMetrics`` uses is here: ``labels(*values)`` then ``inc``, ``set`` or ``observe``;
``set`` on a family without labels.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import INF, floatToGoString

Values = list[float]  # one series: a counter's [value, created], a gauge's [value], see below
Sample = tuple[str, dict[str, str], float]  # name suffix, extra labels (``le``), value
# ``le`` as prometheus_client writes it; typed here (prometheus_client leaves it untyped).
go_float: Callable[[float], str] = floatToGoString


def exports_created() -> bool:
    """prometheus_client's own switch for ``_created`` samples (the environment variable
    ``PROMETHEUS_DISABLE_CREATED_SERIES`` or ``disable_created_metrics()``), read at collection
    as its classes do."""
    return bool(getattr(prometheus_metrics, "_use_created", True))


class Family:
    """One metric's series by label values; registered on ``registry`` as a collector."""

    kind = ""

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str] = (), *,
        registry: CollectorRegistry,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = tuple(labelnames)
        self._series: dict[tuple[str, ...], Values] = {}
        self._lock = threading.Lock()
        if not self._labelnames:  # like prometheus_client: the one series exists at once
            self._series[()] = self._new()
        registry.register(self)

    def _new(self) -> Values:
        raise NotImplementedError

    def samples(self, values: Values, created: bool) -> Iterable[Sample]:
        raise NotImplementedError

    def _values(self, labelvalues: tuple[object, ...]) -> Values:
        key = tuple(map(str, labelvalues))
        # Each intent looks up a few series that exist already: a dict read is atomic, so only
        # a new series takes the lock (a render in its thread copies under it).
        values = self._series.get(key)
        if values is not None:
            return values
        if len(labelvalues) != len(self._labelnames):
            raise ValueError(f"{self._name}: expected labels {self._labelnames}")
        with self._lock:
            return self._series.setdefault(key, self._new())

    def describe(self) -> list[Metric]:
        return [Metric(self._name, self._documentation, self.kind)]

    @property
    def name(self) -> str:
        return self._name

    @property
    def documentation(self) -> str:
        return self._documentation

    @property
    def labelnames(self) -> tuple[str, ...]:
        return self._labelnames

    def snapshot(self) -> list[tuple[tuple[str, ...], Values]]:
        """Every series' label values and a copy of its values, taken under the lock."""
        with self._lock:
            return [(key, list(values)) for key, values in self._series.items()]

    def collect(self) -> list[Metric]:
        metric = Metric(self._name, self._documentation, self.kind)
        series = self.snapshot()
        created = exports_created()
        for key, values in series:
            labels = list(zip(self._labelnames, key, strict=True))
            for suffix, extra, value in self.samples(values, created):
                metric.add_sample(self._name + suffix, dict(labels + list(extra.items())), value)
        return [metric]


class _Series:
    """One series of a family, as ``labels()`` returns it: a handle, not kept."""

    __slots__ = ("_lock", "_values")

    def __init__(self, lock: threading.Lock, values: Values) -> None:
        self._lock = lock
        self._values = values


class CounterSeries(_Series):
    __slots__ = ()

    def inc(self, amount: float = 1) -> None:
        if amount < 0:
            raise ValueError("Counters can only be incremented by non-negative amounts.")
        with self._lock:
            self._values[0] += amount


class Counter(Family):
    """Samples ``<name>_total`` and ``<name>_created`` per series."""

    kind = "counter"

    def labels(self, *labelvalues: object) -> CounterSeries:
        return CounterSeries(self._lock, self._values(labelvalues))

    def _new(self) -> Values:
        return [0.0, time.time()]

    def samples(self, values: Values, created: bool) -> Iterable[Sample]:
        yield "_total", {}, values[0]
        if created:
            yield "_created", {}, values[1]


class GaugeSeries(_Series):
    __slots__ = ()

    def inc(self, amount: float = 1) -> None:
        with self._lock:
            self._values[0] += amount

    def set(self, value: float) -> None:
        with self._lock:
            self._values[0] = float(value)


class Gauge(Family):
    kind = "gauge"

    def labels(self, *labelvalues: object) -> GaugeSeries:
        return GaugeSeries(self._lock, self._values(labelvalues))

    def set(self, value: float) -> None:
        """The value of a gauge without labels."""
        self.labels().set(value)

    def _new(self) -> Values:
        return [0.0]

    def samples(self, values: Values, created: bool) -> Iterable[Sample]:
        yield "", {}, values[0]


class HistogramSeries(_Series):
    __slots__ = ("_bounds",)

    def __init__(self, lock: threading.Lock, values: Values, bounds: tuple[float, ...]) -> None:
        super().__init__(lock, values)
        self._bounds = bounds

    def observe(self, amount: float) -> None:
        """Counted in the first bucket whose bound is at least ``amount`` (none for NaN)."""
        n = len(self._bounds)
        with self._lock:
            self._values[n] += amount
            if not math.isnan(amount):
                self._values[bisect_left(self._bounds, amount)] += 1


class Histogram(Family):
    """A series is [count per bucket (not cumulative) …, sum, created]; samples
    ``<name>_bucket`` (cumulative, ``le`` as Go prints it, ``+Inf`` last), ``_count``, ``_sum``
    and ``_created``."""

    kind = "histogram"

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str] = (), *,
        buckets: Sequence[float], registry: CollectorRegistry,
    ) -> None:
        bounds = [float(bound) for bound in buckets]
        if bounds != sorted(bounds):
            raise ValueError("Buckets not in sorted order")
        if bounds and bounds[-1] != INF:
            bounds.append(INF)
        if len(bounds) < 2:
            raise ValueError("Must have at least two buckets")
        self._bounds = tuple(bounds)
        self._les = tuple(go_float(bound) for bound in bounds)
        super().__init__(name, documentation, labelnames, registry=registry)

    def labels(self, *labelvalues: object) -> HistogramSeries:
        return HistogramSeries(self._lock, self._values(labelvalues), self._bounds)

    def _new(self) -> Values:
        return [0.0] * (len(self._bounds) + 1) + [time.time()]

    def samples(self, values: Values, created: bool) -> Iterable[Sample]:
        n = len(self._bounds)
        total = 0.0
        for le, count in zip(self._les, values[:n], strict=True):
            total += count
            yield "_bucket", {"le": le}, total
        yield "_count", {}, total
        if self._bounds[0] >= 0:
            yield "_sum", {}, values[n]
        if created:
            yield "_created", {}, values[n + 1]
