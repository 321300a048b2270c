"""The broker-wide depths are read with ``max`` across writers, never summed.

Every writer reports ``hub_queue_depth{office}`` and ``hub_dead_letter_depth`` for the whole
broker, so with several writers a ``sum`` over them counts each message once per writer. The
aggregation nearest to each of these gauges, in every dashboard query (grafana/queries.json)
and every alert rule, must be ``max``; a ``sum`` over that ``max`` (across offices) is fine.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from grafana.dashboards_src.export import grafana_dir
from tests.observability.promtool import PROMETHEUS_DIR

DEPTH_GAUGES = ("hub_queue_depth", "hub_dead_letter_depth")
_GAUGE = re.compile(r"(?<![\w:])(hub_queue_depth|hub_dead_letter_depth)(?![\w:])")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# An aggregation operator right before an opening parenthesis, with its grouping clause if it is
# written first: `sum(`, `max by (office) (`.
_AGGREGATION = re.compile(
    r"\b(sum|max|min|avg|count|group|stddev|stdvar|topk|bottomk|quantile|count_values|limitk"
    r"|limit_ratio)\s*(?:(?:by|without)\s*\([^()]*\)\s*)?$"
)


def first_aggregation(expr: str, at: int) -> str | None:
    """The aggregation operator nearest around position ``at`` of ``expr``, or None."""
    # Quoted label values may hold parentheses: blank them out, keeping positions.
    text = _STRING.sub(lambda m: '"' + "x" * (len(m.group()) - 2) + '"', expr)
    opened: list[int] = []
    for index, char in enumerate(text[:at]):
        if char == "(":
            opened.append(index)
        elif char == ")":
            opened.pop()
    for open_at in reversed(opened):
        operator = _AGGREGATION.search(text[:open_at])
        if operator is not None:
            return operator.group(1)
    return None


def depth_reads(expr: str) -> list[tuple[str, str | None]]:
    """Each depth gauge ``expr`` reads, with the aggregation nearest to it."""
    return [(m.group(1), first_aggregation(expr, m.start())) for m in _GAUGE.finditer(expr)]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("sum(hub_queue_depth)", [("hub_queue_depth", "sum")]),
        ('sum by (office) (hub_queue_depth{office=~"a(b"})', [("hub_queue_depth", "sum")]),
        ("sum(hub_dead_letter_depth) by (job)", [("hub_dead_letter_depth", "sum")]),
        ("sum(max by (office) (hub_queue_depth))", [("hub_queue_depth", "max")]),
        ("max(delta(hub_dead_letter_depth[15m])) > 0", [("hub_dead_letter_depth", "max")]),
        ("hub_dead_letter_depth + hub_queue_depth_x", [("hub_dead_letter_depth", None)]),
    ],
)
def test_the_scan_finds_the_aggregation_nearest_to_each_gauge(
    expr: str, expected: list[tuple[str, str | None]]
) -> None:
    # Given an expression reading a depth gauge, When it is scanned
    # Then the aggregation applied first to the gauge is found, past functions and groupings
    assert depth_reads(expr) == expected


def _dashboard_exprs() -> list[tuple[str, str]]:
    listed = json.loads((grafana_dir() / "queries.json").read_text(encoding="utf-8"))
    return [(f"{q['dashboard']} / {q['panel']} / {q['ref_id']}", q["expr"]) for q in listed]


def _rule_exprs() -> list[tuple[str, str]]:
    groups = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    return [(rule.get("alert") or rule["record"], rule["expr"]) for rule in rules]


def test_dashboards_read_the_depths_with_max_across_writers() -> None:
    # Given every PromQL expression of the dashboards
    reads = [(where, *read) for where, expr in _dashboard_exprs() for read in depth_reads(expr)]
    # Then both gauges are shown somewhere (the scan is not blind)
    assert {gauge for _, gauge, _ in reads} == set(DEPTH_GAUGES)
    # And each read aggregates the writers' copies with max first, never with sum
    assert [read for read in reads if read[2] != "max"] == []


def test_alert_rules_read_the_depths_with_max_across_writers() -> None:
    # Given every alert and recording rule
    reads = [(where, *read) for where, expr in _rule_exprs() for read in depth_reads(expr)]
    # Then each read of a depth gauge aggregates the writers' copies with max first
    assert reads, "no rule reads a depth gauge: the dead-letter alert is gone or the scan broke"
    assert [read for read in reads if read[2] != "max"] == []
