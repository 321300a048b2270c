"""Per office: the lane's state, its queue, its throughput, and what slows it down."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from grafana.dashboards_src.panels import (
    PanelBuilder,
    Query,
    assemble,
    dashboard,
    graph,
    quantiles,
    rate_sum,
    states,
    variable,
)

UID = "hub-office"
OFFICES = 'office=~"$office"'
UNEXPLAINED = f'hub_changes_total{{{OFFICES},door="unexplained"}}'
LANE_STATES = (
    "Coloured while the lane is in that state: running, backing_off (waiting to retry a "
    "transient failure) or paused (401, or an operator)."
)


def _lane() -> list[PanelBuilder]:
    return [
        states("Lane state", LANE_STATES,
               Query(f"max by (office, state) (hub_lane_state{{{OFFICES}}})",
                     "{{office}} {{state}}")),
        graph("Queue depth and in flight", "Ready in hub.office.<office>; held by the writer.",
              "none",
              # Every writer reports the same depth: max, not sum, across writers.
              Query(f"max by (office) (hub_queue_depth{{{OFFICES}}})", "{{office}} ready"),
              Query(f"sum by (office) (hub_intents_in_flight{{{OFFICES}}})",
                    "{{office}} in flight")),
        graph("Outcomes", "Finished intents per second by outcome.", "reqps",
              Query(rate_sum("hub_intents_finished_total", OFFICES, "outcome"), "{{outcome}}"),
              stack=True),
    ]  # fmt: skip


def _pace() -> list[PanelBuilder]:
    return [
        quantiles("Publish to applied", "Applied intents of the selected offices.",
                  "hub_publish_to_applied_seconds", OFFICES),
        quantiles("Pacer wait", "Waiting for the customer key's next request slot.",
                  "hub_pacer_wait_seconds", OFFICES),
        graph("Open Dental requests by status class", "Requests per second.", "reqps",
              Query(rate_sum("hub_od_requests_total", OFFICES, "status_class"),
                    "{{status_class}}"), stack=True),
        graph("Retries by error class", "Attempts retried per second.", "reqps",
              Query(rate_sum("hub_retries_total", OFFICES, "error_class"), "{{error_class}}")),
    ]  # fmt: skip


def _changes() -> list[PanelBuilder]:
    return [
        graph("Changes by door", "Changes of the office's Open Dental rows that hub watch "
              "attributed, per second, by door: hub, open_dental_user, other_api, unexplained "
              "(no securitylog entry for it, or a stale SecurityHash: a direct database write).",
              "reqps",
              Query(rate_sum("hub_changes_total", OFFICES, "door"), "{{door}}"), stack=True),
        graph("Unexplained changes", "Changes with no door to show for them, in the last hour "
              "(alert HubUnexplainedChanges); hub changes --office O --door unexplained lists "
              "them.", "none",
              Query(f"sum by (office) (increase({UNEXPLAINED}[1h]))", "{{office}}")),
    ]  # fmt: skip


def build() -> Dashboard:
    board = dashboard(UID, "Hub per office", "One office's lane: state, queue, throughput, pacing.")
    board = board.with_variable(variable("office", "Office", "hub_lane_state"))
    return assemble(board, [
        ("Lane", _lane()), ("Latency and pacing", _pace()), ("Changes (hub watch)", _changes()),
    ])
