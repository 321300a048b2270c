"""Every PromQL the hub's users see: each dashboard panel's query (grafana/queries.json, with
Grafana's variables filled in) and, per alert rule, what must exist for it to mean anything.

A recording rule is asked for itself (its expression, then the series it records). An alert is
silent while all is well, so its expression would answer nothing: its selectors are asked for
instead, each of which must find series.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from grafana.dashboards_src.export import concrete, grafana_dir
from tests.observability.promql_selectors import selectors
from tests.observability.promtool import PROMETHEUS_DIR

ALERTS = PROMETHEUS_DIR / "alerts.yml"


@dataclass(frozen=True, kw_only=True)
class Expected:
    where: str  # the panel or rule, for the failure message
    expr: str


def dashboard_queries() -> list[Expected]:
    listed = json.loads((grafana_dir() / "queries.json").read_text(encoding="utf-8"))
    return [
        Expected(where=f"{q['dashboard']} / {q['panel']} / {q['ref_id']}", expr=concrete(q["expr"]))
        for q in listed
    ]


def rule_queries() -> list[Expected]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    rules: list[dict[str, Any]] = [rule for group in groups for rule in group["rules"]]
    expected: list[Expected] = []
    for rule in rules:
        if "record" in rule:
            expected.append(Expected(where=f"record {rule['record']}", expr=rule["expr"]))
            expected.append(Expected(where=f"record {rule['record']}", expr=rule["record"]))
        else:
            expected += [
                Expected(where=f"alert {rule['alert']}", expr=selector)
                for selector in sorted(selectors(rule["expr"]))
            ]
    return expected
