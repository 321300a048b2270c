"""prometheus/alerts.yml: valid for promtool, unit-tested by promtool, annotated for on-call."""

from __future__ import annotations

from typing import Any

import yaml

from tests.observability.promtool import PROMETHEUS_DIR, promtool

ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERT_TESTS = PROMETHEUS_DIR / "alerts.test.yml"
REQUIRED_ANNOTATIONS = {"summary", "description", "runbook"}


def _alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_checks_the_rules() -> None:
    # Given the committed rules, When promtool checks them
    result = promtool("check", "rules", ALERTS)
    # Then they are valid PromQL and valid rule files
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    # Given the rule unit tests, When promtool runs them
    result = promtool("test", "rules", ALERT_TESTS)
    # Then every alert fires and stays quiet where the tests expect
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_annotated_and_has_a_severity() -> None:
    # Given every alert rule, Then each says what happened, why, and what to do, and how loud
    for rule in _alert_rules():
        assert set(rule["annotations"]) >= REQUIRED_ANNOTATIONS, rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    # Given the unit tests' expectations per alert
    cases = [
        case
        for test in yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    # Then each alert has at least one case expecting it and one expecting silence
    for name in (rule["alert"] for rule in _alert_rules()):
        expectations = [bool(case["exp_alerts"]) for case in cases if case["alertname"] == name]
        assert True in expectations and False in expectations, name
