"""Open Dental's API as the hub sees it: requests, latency, errors, 401s, pacing, and the
read-only SQL door."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from grafana.dashboards_src.panels import (
    RATE,
    PanelBuilder,
    Query,
    assemble,
    dashboard,
    graph,
    p95_by,
    quantiles,
    rate_sum,
    variable,
)

UID = "hub-opendental"
OFFICES = 'office=~"$office"'
REQUESTS = "hub_od_requests_total"
# 5xx, 429 and no reply are failures; 401 and other 4xx are answers (counted on their own).
NOT_FAILED = f'{OFFICES}, status_class!~"5xx|429|none"'
ERROR_RATIO = (
    f"1 - {rate_sum(REQUESTS, NOT_FAILED, 'office')} / {rate_sum(REQUESTS, OFFICES, 'office')}"
)
AUTH_FAILURES = f"sum by (office) (increase(hub_od_auth_failures_total{{{OFFICES}}}[{RATE}]))"
SQL = "hub_od_sql_query_duration_seconds"


def _requests() -> list[PanelBuilder]:
    return [
        graph("Requests by operation", "Requests per second.", "reqps",
              Query(rate_sum(REQUESTS, OFFICES, "operation"), "{{operation}}"), stack=True),
        graph("Requests by status class", "401 and 429 apart; none: no reply.", "reqps",
              Query(rate_sum(REQUESTS, OFFICES, "status_class"), "{{status_class}}"),
              stack=True),
        graph("Error ratio", "Share of requests answered 5xx or 429, or not at all.",
              "percentunit", Query(ERROR_RATIO, "{{office}}")),
        graph("401s", "Open Dental refused the office's keys: its lane pauses.", "none",
              Query(AUTH_FAILURES, "{{office}}")),
    ]  # fmt: skip


def _latency() -> list[PanelBuilder]:
    return [
        quantiles("Request latency", "Open Dental's reply time, every operation.",
                  "hub_od_request_duration_seconds", OFFICES),
        graph("Request latency p95 by operation", "Open Dental's reply time.", "s",
              Query(p95_by("hub_od_request_duration_seconds", "operation", OFFICES),
                    "{{operation}}")),
        graph("Pacer wait p95 by office", "Waiting for the customer key's next slot.", "s",
              Query(p95_by("hub_pacer_wait_seconds", "office", OFFICES), "{{office}}")),
        graph("Time spent pacing", "Seconds waited per second: near 1, the throttle binds.",
              "none", Query(rate_sum("hub_pacer_wait_seconds_sum", OFFICES, "office"),
                            "{{office}}")),
        graph("Pacer back-off, top 10 offices",
              "Added to each slot for the throttle replies the office's key met; 0: none.", "s",
              Query(f"topk(10, max by (office) (hub_pacer_backoff_seconds{{{OFFICES}}}))",
                    "{{office}}")),
    ]  # fmt: skip


def _sql() -> list[PanelBuilder]:
    return [
        graph("Read-only SQL, p95 by query", "Queries on Open Dental databases.", "s",
              Query(p95_by(SQL, "query"), "{{query}}")),
        graph("Read-only SQL by result", "Queries per second, ok or error.", "reqps",
              Query(rate_sum(f"{SQL}_count", by="query, result"), "{{query}} {{result}}")),
    ]  # fmt: skip


def build() -> Dashboard:
    board = dashboard(UID, "Open Dental API", "Requests, latency, errors, 401s and pacing.")
    board = board.with_variable(variable("office", "Office", REQUESTS))
    sections = [
        ("Requests", _requests()),
        ("Latency and pacing", _latency()),
        ("Read-only SQL (reconciliation)", _sql()),
    ]
    return assemble(board, sections)
