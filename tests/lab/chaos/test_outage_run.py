"""A short outage run, end to end: its own RabbitMQ node with a 2 s consumer_timeout, the
simulator and the writer as processes, one office down each way for four timeouts, an office and
a vendor paused, an outcome queue deleted and declared again. The outages happen, every published
intent is accounted for once, the report's figures agree, and the writer let no broker timer
decide: no consumer timed out, nothing dead-lettered by the broker, nothing lost, doubled or out
of order, every held intent applied once its office came back, every outcome delivered. (The
steady offices' pace is ``hub chaos --outage``'s verdict, at full length.)"""

from __future__ import annotations

import json

import pytest

from hub.settings import HubSettings
from lab.chaos.outage import OutageConfig, outage_json, outage_text, run_outage
from lab.chaos.rabbit_node import rabbitmq_available

pytestmark = pytest.mark.skipif(
    not rabbitmq_available(), reason="RabbitMQ's server scripts are not installed here"
)
HELD_KEYS = {"name", "disruption", "start_s", "end_s", "timeouts", "published", "to_apply",
             "applied", "applied_after_return", "all_applied", "not_applied",
             "refused_by_simulator"}


async def test_a_short_outage_run_accounts_for_every_intent_and_reports_the_outages() -> None:
    # Given outages of 4 consumer timeouts (2 s each) on one office per kind, one office paused,
    # two steady offices, two vendors publishing 8 intents a second throughout; the office
    # queues dead-letter a message returned 3 times, so a writer that left its held deliveries
    # to the broker's timer would lose them to it in every outage (as days would at 30 min and
    # a limit of 20)
    config = OutageConfig(
        settings=HubSettings(office_delivery_limit=3), consumer_timeout_s=2.0,
        outage_timeouts=4.0, baseline_s=4.0,
        stagger_s=1.0, tail_s=2.0, offices_per_kind=1, steady_offices=2, vendors=2,
        databases=2, publish_rate=8.0, drain_timeout_s=20.0, attempt_timeout_s=0.8, seed=3,
    )
    lines: list[str] = []
    # When the run is made
    report = await run_outage(config, lines.append)
    figures = json.loads(outage_json(report))
    # Then every published intent has exactly one end
    ends = [figures[status] for status in ("applied", "rejected", "dead", "lost")]
    assert figures["published"] == len(report.base.accounting.ended) == sum(ends) > 100
    # And each disruption happened for its whole length, and the paused vendor's publishes
    # were refused and kept (how often the simulator refused an office depends on how often
    # the writer tried it)
    held = {h["name"]: h for h in figures["held"]}
    assert [held[o]["disruption"] for o in ("office-001", "office-002", "office-003",
                                            "office-004", "vendor-01")] == [
        "connection_refused", "econnector_down", "unauthorized", "office_paused",
        "vendor_paused"]
    assert all(set(h) == HELD_KEYS for h in figures["held"])
    assert held["office-001"]["refused_by_simulator"] is None  # refused by the forwarder
    assert figures["refused_publishes"]["vendor-01"] > 0
    assert 3.5 <= figures["shortest_outage_timeouts"] <= figures["outage_timeouts"] <= 4.5
    # And the report's figures agree with one another
    assert isinstance(figures["broker_consumer_timeouts"], int)
    assert isinstance(figures["broker_dead_lettered"], int)
    assert figures["out_of_order"] == sum(figures["out_of_order_by_office"].values())
    outcomes = figures["outcomes_after_queue_deleted"]
    assert outcomes["vendor"] == "vendor-02"
    assert outcomes["received"] + outcomes["missing"] == outcomes["decided"] > 0
    assert figures["steady_rate"]["before_applied"] > 0
    assert figures["ok"] == all(figures["checks"].values())
    # And no broker timer or counter decided anything, and nothing waited for good
    assert (figures["broker_consumer_timeouts"], figures["broker_dead_lettered"]) == (0, 0)
    assert (figures["lost"], figures["duplicated"], figures["out_of_order"]) == (0, 0, 0)
    assert [h["name"] for h in figures["held"] if not h["all_applied"]] == []
    assert outcomes["missing"] == 0
    assert outage_text(report).startswith(f"hub chaos --outage, run {report.base.run_id}: ")
    assert any("paused by an operator" in line for line in lines)
