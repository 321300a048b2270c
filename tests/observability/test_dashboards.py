"""The generated dashboards: current, well formed, and reading only metrics that exist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from grafana.dashboards_src.export import (
    check,
    concrete,
    documents,
    grafana_dir,
    queries,
    write_all,
)
from hub.cli import app
from tests.observability.catalogue_names import catalogue_sample_names, metric_names
from tests.observability.promtool import PROMETHEUS_DIR, promtool

ALERTS = PROMETHEUS_DIR / "alerts.yml"


def _alert_exprs() -> list[str]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_committed_dashboards_are_current() -> None:
    # Given the repository's grafana/ folder, When the hub checks it like CI does
    result = CliRunner().invoke(app, ["dashboards", "check"])
    # Then it finds nothing stale
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_check_names_stale_missing_and_unexpected_files(tmp_path: Path) -> None:
    # Given a fresh export, then one file edited, one deleted and one foreign dashboard added
    write_all(tmp_path)
    (tmp_path / "dashboards" / "hub-office.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "dashboards" / "hub-vendor.json").unlink()
    (tmp_path / "dashboards" / "clicked-together.json").write_text("{}\n", encoding="utf-8")
    # When the folder is checked
    drift = check(tmp_path)
    # Then each is named for what it is
    assert drift.stale == ["dashboards/hub-office.json"]
    assert drift.missing == ["dashboards/hub-vendor.json"]
    assert drift.unexpected == ["dashboards/clicked-together.json"]
    # And exporting again removes the foreign file and makes the folder current
    write_all(tmp_path)
    assert check(tmp_path).up_to_date


def test_the_cli_check_exits_1_on_a_stale_folder(tmp_path: Path) -> None:
    # Given an exported folder whose query list was edited by hand
    write_all(tmp_path)
    (tmp_path / "queries.json").write_text("[]\n", encoding="utf-8")
    # When `hub dashboards check --dir` runs
    result = CliRunner().invoke(app, ["dashboards", "check", "--dir", str(tmp_path)])
    # Then it fails naming the file
    assert result.exit_code == 1
    assert "stale: queries.json" in result.output


def test_dashboards_are_well_formed() -> None:
    # Given every generated dashboard
    boards = documents()
    # Then uids are unique, panel ids unique per dashboard, and every panel reads the
    # provisioned Prometheus data source through at least one query
    assert len({board["uid"] for board in boards}) == len(boards)
    for board in boards:
        panels = board["panels"]
        assert len({panel["id"] for panel in panels}) == len(panels), board["uid"]
        for panel in (p for p in panels if p["type"] != "row"):
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
            assert panel["targets"], (board["uid"], panel["title"])


def test_queries_json_lists_every_panel_query() -> None:
    # Given the committed list of queries and the dashboards' own targets
    listed = json.loads((grafana_dir() / "queries.json").read_text(encoding="utf-8"))
    targets = [t for b in documents() for p in b["panels"] for t in p.get("targets", [])]
    # Then the list holds each of them
    assert listed == queries(documents())
    assert len(listed) == len(targets)


def test_every_expression_parses_as_promql(tmp_path: Path) -> None:
    # Given every dashboard expression as a recording rule (promtool parses rule files fully)
    rules = [
        {"record": f"dashboard:query:{index}", "expr": concrete(query["expr"])}
        for index, query in enumerate(queries(documents()))
    ]
    rules_file = tmp_path / "dashboard-queries.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "q", "rules": rules}]}))
    # When promtool checks them
    result = promtool("check", "rules", rules_file)
    # Then every one is valid PromQL
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_hub_metric_read_exists_in_the_catalogue() -> None:
    # Given every hub_* name read by a dashboard or a rule
    exprs = [query["expr"] for query in queries(documents())] + _alert_exprs()
    used = {name for expr in exprs for name in metric_names(expr) if name.startswith("hub_")}
    # Then the catalogue exposes each of them
    assert used, "no hub metric found: the name pattern is broken"
    assert used - catalogue_sample_names() == set()


def _all_names(documents_: list[dict[str, Any]]) -> set[str]:
    return {name for query in queries(documents_) for name in metric_names(query["expr"])}


def test_the_name_scan_sees_labels_as_labels() -> None:
    # Given an expression with label names that look like metric names
    names = metric_names('sum by (hub_x) (rate(hub_a_total{hub_y="1", hub_z!~"2"}[1m]))')
    # Then only the metric is found
    assert names == {"hub_a_total"}
    assert "rabbitmq_queue_messages_ready" in _all_names(documents())
