"""Per vendor: what a vendor sends, to which offices, and how it ends."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from grafana.dashboards_src.panels import (
    PanelBuilder,
    Query,
    assemble,
    dashboard,
    graph,
    rate_sum,
    single,
    variable,
)

UID = "hub-vendor"
VENDORS = 'vendor=~"$vendor"'
APPLIED = f'{VENDORS}, outcome=~"applied|duplicate"'
RECEIVED, FINISHED = "hub_intents_received_total", "hub_intents_finished_total"
WAITING = "hub_outcomes_waiting"
DEPRECATED = "hub_intents_deprecated_total"
NOT_APPLIED_SHARE = (
    f"1 - sum(increase({FINISHED}{{{APPLIED}}}[$__range]))"
    f" / sum(increase({FINISHED}{{{VENDORS}}}[$__range]))"
)
OFFICES_SERVED = f"count(sum by (office) (increase({RECEIVED}{{{VENDORS}}}[$__range])) > 0)"


def _now() -> list[PanelBuilder]:
    return [
        single("Intents received", "Per second.", "reqps",
               Query(rate_sum(RECEIVED, VENDORS))),
        single("Applied", "Applied (or repeated as duplicates) per second.", "reqps",
               Query(rate_sum(FINISHED, APPLIED))),
        single("Rejected or dead", "Share of finished intents not applied, in the range.",
               "percentunit", Query(NOT_APPLIED_SHARE)),
        single("Offices", "Offices the vendor sent intents to in the range.", "none",
               Query(OFFICES_SERVED)),
    ]  # fmt: skip


def _traffic() -> list[PanelBuilder]:
    return [
        graph("Received by contract", "Intents per second.", "reqps",
              Query(rate_sum(RECEIVED, VENDORS, "contract"), "{{contract}}"), stack=True),
        graph("Received by office", "Intents per second.", "reqps",
              Query(rate_sum(RECEIVED, VENDORS, "office"), "{{office}}"), stack=True),
        graph("On deprecated versions",
              "Intents per second of a contract version past its deprecation, before its sunset "
              "(contracts/README.md, Versions): the vendors still to move.", "reqps",
              Query(rate_sum(DEPRECATED, VENDORS, "vendor, contract, version"),
                    "{{vendor}} {{contract}} v{{version}}"), stack=True),
    ]  # fmt: skip


def _outcomes() -> list[PanelBuilder]:
    return [
        graph("Outcomes by reason", "Finished per second (reason none: applied).", "reqps",
              Query(rate_sum(FINISHED, VENDORS, "outcome, reason"), "{{outcome}} {{reason}}"),
              stack=True),
        graph("Outcomes by contract", "Finished per second.", "reqps",
              Query(rate_sum(FINISHED, VENDORS, "contract, outcome"),
                    "{{contract}} {{outcome}}")),
        graph("Outcome events waiting (outbox)",
              "Outcome events the broker would not take (the vendor's outcome queue missing or "
              "full), waiting in the hub database for the relay, and the oldest's age in minutes.",
              "none",
              Query(f"max by (vendor) ({WAITING}{{{VENDORS}}})", "{{vendor}} waiting"),
              Query(f"max by (vendor) ({WAITING}_oldest_seconds{{{VENDORS}}}) / 60",
                    "{{vendor}} oldest (min)")),
    ]  # fmt: skip


def build() -> Dashboard:
    board = dashboard(UID, "Hub per vendor", "One vendor's intents: contracts, offices, outcomes.")
    board = board.with_variable(variable("vendor", "Vendor", RECEIVED))
    return assemble(board, [("Now", _now()), ("Traffic", _traffic()), ("Outcomes", _outcomes())])
