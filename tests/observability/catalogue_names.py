"""The sample names the hub's catalogue exposes, and the metric names a PromQL text uses."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

from hub.observability import HubMetrics, LabelBounds

SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gauge": ("",),
}
# A metric name is one not followed by a label matcher's operator; grouping clauses and string
# literals are removed first, since they hold label names and values.
_NAME = re.compile(r"\b((?:hub|rabbitmq)_[a-z0-9_]+)\b(?!\s*[=!~(])")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def catalogue_sample_names() -> set[str]:
    """Every sample name HubMetrics can expose, from its families' names and types."""
    registry = CollectorRegistry()
    HubMetrics(registry, LabelBounds(vendors=frozenset(), offices=frozenset()))
    return {
        family.name + suffix for family in registry.collect() for suffix in SUFFIXES[family.type]
    }


def metric_names(expr: str) -> set[str]:
    """The hub_* and rabbitmq_* metric names an expression reads."""
    return set(_NAME.findall(_GROUPING.sub("", _STRING.sub('""', expr))))
