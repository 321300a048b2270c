"""The selector scan the end-to-end test uses for alert rules that are silent while healthy."""

from __future__ import annotations

from tests.observability.promql_selectors import selectors


def test_selectors_keep_matchers_and_drop_functions_groupings_and_ranges() -> None:
    # Given an alert-like expression with functions, a grouping, ranges and matchers
    expr = (
        'sum by (office) (rate(hub_od_requests_total{status_class=~"5xx|429|none"}[10m]))'
        ' / sum by (office) (rate(hub_od_requests_total[10m])) > 0.1'
        ' and hub:publish_to_applied_slow:ratio_rate5m > 0'
        ' or absent(up{job="hub-writer"})'
    )
    # When its selectors are read
    found = selectors(expr)
    # Then each series selector is there once, with its matchers and no range
    assert found == {
        'hub_od_requests_total{status_class=~"5xx|429|none"}',
        "hub_od_requests_total",
        "hub:publish_to_applied_slow:ratio_rate5m",
        'up{job="hub-writer"}',
    }
