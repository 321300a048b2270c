"""Render the dashboards to JSON, write them, check the committed ones, list their queries.

Rendering is deterministic (sorted keys, indent 2, a trailing newline, panel ids by position),
so ``hub dashboards check`` can compare text. The generated files live under the ``grafana``
folder: ``dashboards/<uid>.json`` (loaded by Grafana's file provider) and ``queries.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from contracts.generated import Drift, compare, json_text, write_files
from grafana.dashboards_src import office, opendental, overview, rabbitmq, vendor

BUILDERS: tuple[Callable[[], Dashboard], ...] = (
    overview.build,
    vendor.build,
    office.build,
    opendental.build,
    rabbitmq.build,
)
DASHBOARDS_DIR = "dashboards"
QUERIES_FILE = "queries.json"
_DASHBOARDS_GLOB = f"{DASHBOARDS_DIR}/*.json"
# What Grafana puts in place of its variables, for running a query outside Grafana.
DEFAULT_VARIABLES = {"__rate_interval": "1m", "__range": "5m", "vendor": ".*", "office": ".*"}
_VARIABLE = re.compile(r"\$(\w+)")


def grafana_dir() -> Path:
    """The repo's grafana/ folder (the installed ``grafana`` package in an editable install)."""
    return Path(__file__).resolve().parent.parent


def _document(build: Callable[[], Dashboard]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True).encode(build().build()))
    for position, panel in enumerate(document["panels"], start=1):
        panel["id"] = position  # Grafana wants them unique; the SDK leaves them to us
    return document


def documents() -> list[dict[str, Any]]:
    """Every dashboard as Grafana's JSON model."""
    return [_document(build) for build in BUILDERS]


def queries(dashboards: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every PromQL expression of every panel, in dashboard and panel order."""
    return [
        {"dashboard": board["uid"], "panel": panel["title"], "ref_id": target["refId"],
         "expr": target["expr"]}
        for board in dashboards
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]  # fmt: skip


def render_all() -> dict[str, str]:
    """Every generated file's text by its path relative to the grafana/ folder."""
    boards = documents()
    files = {f"{DASHBOARDS_DIR}/{board['uid']}.json": json_text(board) for board in boards}
    files[QUERIES_FILE] = json_text(queries(boards))
    return dict(sorted(files.items()))


def concrete(expr: str, variables: dict[str, str] | None = None) -> str:
    """The expression with Grafana's variables replaced, ready for Prometheus."""
    values = DEFAULT_VARIABLES | (variables or {})
    return _VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), expr)


def write_all(directory: Path) -> list[str]:
    """Write every generated file under ``directory``; the relative paths written. Dashboards
    no longer generated are removed: Grafana's file provider would keep serving them."""
    return write_files(directory, render_all(), prune=_DASHBOARDS_GLOB)


def check(directory: Path) -> Drift:
    """Compare the generated files under ``directory`` with a fresh render."""
    return compare(directory, render_all(), _DASHBOARDS_GLOB)
