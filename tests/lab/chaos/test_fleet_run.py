"""A short chaos run of two writers sharing the offices, one of them killed and one more joining
while the vendors publish: after each change the offices settle evenly over the live writers (as
the broker shows its active consumers), nothing is applied out of its office's order, nothing is
lost or doubled. (The full run is ``hub chaos --cluster --writers 3``: a command, not a test.)"""

from __future__ import annotations

import pytest

from hub.settings import HubSettings
from lab.chaos import ChaosConfig, run_chaos
from lab.chaos.rabbit_node import rabbitmq_available
from lab.chaos.report import report_dict

pytestmark = pytest.mark.skipif(
    not rabbitmq_available(), reason="RabbitMQ's server scripts are not installed here"
)


async def test_two_writers_a_kill_and_a_join_settle_evenly_and_keep_order() -> None:
    # Given 200 intents over 5 offices published at 40 a second, two writers, one to be killed
    # and one more to join two seconds into the publishing; no faults, no rogue, no broker
    # restart (the short run of test_chaos_run has them)
    config = ChaosConfig(
        settings=HubSettings(), intents=200, offices=5, vendors=2, kills=1, broker_restarts=0,
        rate_commit_then_drop=0.0, rate_500=0.0, seed=3, databases=2, publish_rate=40.0,
        drain_timeout_s=180.0, attempt_timeout_s=2.0, rogue=0, writers=2, join_at_s=2.0,
    )
    lines: list[str] = []
    # When the run is made
    report = await run_chaos(config, lines.append)
    figures = report_dict(report)
    # Then nothing is lost or doubled, and nothing applied out of its office's order
    assert (figures["published"], figures["lost"], figures["duplicated"]) == (200, 0, 0)
    assert figures["out_of_order"] == 0, figures["out_of_order_by_office"]
    # And the start, the kill and the join each settled: every office with one active consumer
    # on a live writer, shares within one (5 offices: 3/2 over two writers, 2/1 over three)
    assert report.spread is not None
    changes = report.spread.changes
    assert {c.event for c in changes} >= {"start", "kill", "join"}, changes
    assert report.spread.ok and report.spread.unsettled == 0, changes
    # (changes that come before the last settled settle together: which counts of writers
    # show depends on the machine's pace, not on the hub)
    worst = figures["offices_per_writer"]
    assert isinstance(worst, dict) and worst["worst"], changes
    even = {"2": {"max": 3, "min": 2}, "3": {"max": 2, "min": 1}}
    assert all(even[n] == spread for n, spread in worst["worst"].items()), changes
    handover = figures["handover_s"]
    assert isinstance(handover, dict) and handover["p50"] is not None
    assert figures["writers"] == 2 and figures["writers_joined"] == 1
    assert report.chaos.writer_kills == 1
