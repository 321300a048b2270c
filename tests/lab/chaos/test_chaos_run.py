"""A short chaos run, end to end: its own RabbitMQ node, throwaway databases, the simulator and
the writer as processes, faults injected, the writer killed twice; the accounting must find
nothing lost, nothing doubled and every refusal in the dead-letter queue; and the watch over the
run's offices must attribute every hub change to its intent and flag every rogue direct write.
(The full run, with a broker restart, is ``hub chaos``: a command, not a test.)"""

from __future__ import annotations

import pytest

from hub.settings import HubSettings
from lab.chaos import ChaosConfig, run_chaos
from lab.chaos.rabbit_node import rabbitmq_available
from lab.chaos.report import report_dict

pytestmark = pytest.mark.skipif(
    not rabbitmq_available(), reason="RabbitMQ's server scripts are not installed here"
)


async def test_a_short_chaos_run_loses_nothing_and_applies_nothing_twice() -> None:
    # Given 200 intents over 3 offices and 2 vendors, 5% commit-then-drop and 5% 500s,
    # and the writer to be killed twice (no broker restart in the short run)
    config = ChaosConfig(
        settings=HubSettings(), intents=200, offices=3, vendors=2, kills=2, broker_restarts=0,
        rate_commit_then_drop=0.05, rate_500=0.05, seed=5, databases=2, publish_rate=400.0,
        drain_timeout_s=120.0, attempt_timeout_s=2.0, rogue=9,
    )
    lines: list[str] = []
    # When the run is made
    report = await run_chaos(config, lines.append)
    figures = report_dict(report)
    ends = [figures[status] for status in ("applied", "rejected", "dead", "lost")]
    # Then every published intent ended, once, and each refusal sits in hub.dead
    assert (figures["published"], figures["lost"], figures["duplicated"]) == (200, 0, 0)
    assert sum(n for n in ends if isinstance(n, int)) == 200
    assert figures["dead_lettered_ok"] is True
    # And the chaos really happened: two kills, and the simulator failed requests on purpose
    assert (figures["writer_kills"], figures["broker_restarts"]) == (2, 0)
    assert report.chaos.faults_injected["commit_then_drop"] > 0
    assert report.chaos.faults_injected["http_500"] > 0
    # And every change the hub made is attributed to the hub and its intent, none of the rows
    # it wrote has an unexplained change, and all nine of the rogue's direct writes are flagged
    hub = [figures[name] for name in ("hub_changes", "hub_changes_attributed",
                                       "hub_changes_intent_unknown", "hub_changes_unexplained")]
    assert all(isinstance(n, int) for n in hub) and hub[0] > 100
    assert hub[1:] == [hub[0], 0, 0], (figures["hub_changes_intent_unknown_list"],
                                       figures["hub_changes_unexplained_list"])
    assert (figures["hub_changes_missed"], figures["hub_changes_other_intent"]) == ([], [])
    assert (figures["rogue_injected"], figures["rogue_flagged"]) == (9, 9), figures["rogue_missed"]
    assert report.lost == 0 and report.dead_lettered_ok
