"""Hub overview: is the hub up, how much flows through it, how it ends, how long it takes."""

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
    single,
)

UID = "hub-overview"
RECEIVED, FINISHED = "hub_intents_received_total", "hub_intents_finished_total"
SLOW_SHARE = (
    f'1 - (sum(rate(hub_publish_to_applied_seconds_bucket{{le=~"60|60.0"}}[{RATE}]))'
    f" / sum(rate(hub_publish_to_applied_seconds_count[{RATE}])))"
)


def _now() -> list[PanelBuilder]:
    return [
        single("Writers up", "Writer processes Prometheus scrapes.", "none",
               Query('sum(up{job="hub-writer"})')),
        single("Intents received", "Per second.", "reqps", Query(rate_sum(RECEIVED))),
        single("Dead letters", "Messages waiting in hub.dead.", "none",
               Query("max(hub_dead_letter_depth)")),
        # Every writer has a lane for every office (standing by where another serves it).
        single("Offices paused", "Office lanes paused (401 or an operator).", "none",
               Query('count(max by (office) (hub_lane_state{state="paused"}) == 1) or vector(0)')),
    ]  # fmt: skip


def _writers() -> list[PanelBuilder]:
    return [
        graph("Offices per writer", "Each writer's share of the offices; once settled, the "
              "shares differ by one at most.", "none",
              Query("sum by (instance) (hub_offices_owned)", "{{instance}}")),
        graph("Office hand-overs", "Offices taken from or given to another writer, per second.",
              "reqps", Query(rate_sum("hub_office_handovers_total", by="direction"),
                             "{{direction}}")),
    ]  # fmt: skip


def _flow() -> list[PanelBuilder]:
    return [
        graph("Intents received and finished", "Per second, every vendor and office.", "reqps",
              Query(rate_sum(RECEIVED), "received"), Query(rate_sum(FINISHED), "finished")),
        graph("Outcomes by reason", "Finished per second by outcome and reason (none: applied).",
              "reqps", Query(rate_sum(FINISHED, by="outcome, reason"), "{{outcome}} {{reason}}"),
              stack=True),
        # Every writer reports every office's depth: max per office, then the offices' sum.
        graph("Backlog", "Ready in the office queues, and held by the writer.", "none",
              Query("sum(max by (office) (hub_queue_depth))", "ready in office queues"),
              Query("sum(hub_intents_in_flight)", "in flight")),
        graph("Retries by error class", "Attempts retried per second.", "reqps",
              Query(rate_sum("hub_retries_total", by="error_class"), "{{error_class}}")),
    ]  # fmt: skip


def _latency() -> list[PanelBuilder]:
    return [
        quantiles("Publish to applied", "From the vendor's publish to Open Dental's reply.",
                  "hub_publish_to_applied_seconds"),
        quantiles("Processing", "One delivery through the writer, delivery to ack.",
                  "hub_processing_seconds"),
        graph("Latency objective: share slower than 60 s",
              "Objective: 99% of applied intents within 60 s of publish (budget: 1%).",
              "percentunit", Query(SLOW_SHARE, "slower than 60 s")),
        graph("Dead letters", "Messages waiting in hub.dead.", "none",
              Query("max(hub_dead_letter_depth)", "hub.dead")),
    ]  # fmt: skip


def _ledger() -> list[PanelBuilder]:
    return [
        graph("Ledger statements, p95", "The hub database, by statement name.", "s",
              Query(p95_by("hub_ledger_query_duration_seconds", "query"), "{{query}}"), width=24),
    ]  # fmt: skip


def build() -> Dashboard:
    board = dashboard(UID, "Hub overview", "Throughput, outcomes, latency and dead letters.")
    sections = [
        ("Now", _now()),
        ("Throughput and outcomes", _flow()),
        ("Latency", _latency()),
        ("Ledger", _ledger()),
        ("Writers", _writers()),
    ]
    return assemble(board, sections)
