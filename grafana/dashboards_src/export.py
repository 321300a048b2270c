"""Render the dashboards to JSON, write them, check the committed ones, list their queries.

Rendering is deterministic (sorted keys, indent 2, a trailing newline, panel ids by position),
so ``hub dashboards check`` can compare text. The generated files live under the ``grafana``
folder: ``dashboards/<uid>.json`` (loaded by Grafana's file provider) and ``queries.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

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


def _text(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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
    files = {f"{DASHBOARDS_DIR}/{board['uid']}.json": _text(board) for board in boards}
    files[QUERIES_FILE] = _text(queries(boards))
    return dict(sorted(files.items()))


def concrete(expr: str, variables: dict[str, str] | None = None) -> str:
    """The expression with Grafana's variables replaced, ready for Prometheus."""
    values = DEFAULT_VARIABLES | (variables or {})
    return _VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), expr)


def write_all(directory: Path) -> list[str]:
    """Write every generated file under ``directory``; the relative paths written."""
    for stale in _generated(directory):
        stale.unlink()
    for relative, text in render_all().items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return list(render_all())


@dataclass(frozen=True, kw_only=True)
class Drift:
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.stale or self.missing or self.unexpected)


def check(directory: Path) -> Drift:
    """Compare the generated files under ``directory`` with a fresh render."""
    expected = render_all()
    present = {path.relative_to(directory).as_posix() for path in _generated(directory)}
    drift = Drift(unexpected=sorted(present - set(expected)))
    for relative, text in expected.items():
        target = directory / relative
        if not target.is_file():
            drift.missing.append(relative)
        elif target.read_text(encoding="utf-8") != text:
            drift.stale.append(relative)
    return drift


def _generated(directory: Path) -> Iterator[Path]:
    yield from sorted((directory / DASHBOARDS_DIR).glob("*.json"))
