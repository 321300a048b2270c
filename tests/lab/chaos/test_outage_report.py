"""The outage run's report from explicit figures: its JSON holds the chaos run's accounting and
the outage figures, each check is named, and one broker consumer timeout fails the run."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

from lab.chaos.accounting import Accounting, End, Ended
from lab.chaos.effects import Duplicates
from lab.chaos.outage import outage_dict, outage_json, outage_text
from lab.chaos.outage.accounting import Delivery, Held, Rates
from lab.chaos.outage.report import OutageFigures, OutageReport
from lab.chaos.outage.timeline import Window
from lab.chaos.plan import APPLIED, Planned
from lab.chaos.report import Chaos, ChaosReport

OUTAGE = Window(start_s=30.0, end_s=140.0)


def _held(name: str, disruption: str) -> Held:
    return Held(name=name, disruption=disruption, window=OUTAGE, timeouts=27.5, published=10,
                to_apply=9, applied=9, applied_after=6, not_applied=Counter())


def _report(**changes: object) -> OutageReport:
    planned = Planned(vendor="vendor-01", office="office-001", contract="patient.create",
                      key="k1", body=b"{}", expect=APPLIED)
    accounting = Accounting(
        ended=(Ended(planned=planned, end=End(status="applied"), in_dlq=False, with_row=True),),
        resent=0, unconfirmed=(), duplicates=Duplicates(groups=Counter(), extra_rows=Counter()),
        letters_scanned=0, letters_complete=True,
    )
    chaos = Chaos(writer_kills=0, writer_starts=1, writer_own_exits=(), broker_restarts=0,
                  faults_injected={}, drained=True)
    base = ChaosReport(run_id="0badf00d", options={"consumer_timeout_s": 4.0}, elapsed_s=300.0,
                       accounting=accounting, chaos=chaos)
    figures = OutageFigures(
        consumer_timeout_s=4.0, broker_consumer_timeouts=0, broker_dead_lettered=0,
        out_of_order=Counter(),
        held=(_held("office-001", "connection_refused"), _held("office-003", "econnector_down"),
              _held("office-005", "unauthorized"), _held("office-007", "office_paused")),
        rates=Rates(offices=("office-008",), before=Window(start_s=0.0, end_s=30.0),
                    during=Window(start_s=30.0, end_s=160.0), before_applied=60,
                    during_applied=255, slowest_slice=19),
        steady_not_applied=Counter(),
        delivery=Delivery(vendor="vendor-02", decided=400, received=400, missing=()),
        queue_gone=Window(start_s=40.0, end_s=160.0), refused_publishes={"vendor-01": 300},
        refused_by_simulator={"office-003": 120},
    )
    return OutageReport(base=base, outage=replace(figures, **changes))


def test_a_clean_run_passes_every_check_and_reports_the_outage_figures() -> None:
    # Given the figures of a run in which the hub did everything right
    report = _report()
    # When it is rendered as JSON
    figures = json.loads(outage_json(report))
    # Then it holds the chaos run's accounting and the outage figures, and every check passed
    assert (figures["published"], figures["lost"], figures["duplicated"]) == (1, 0, 0)
    assert figures["outage_timeouts"] == 27.5
    assert (figures["broker_consumer_timeouts"], figures["broker_dead_lettered"],
            figures["out_of_order"]) == (0, 0, 0)
    assert [h["all_applied"] for h in figures["held"]] == [True] * 4
    assert figures["steady_rate"]["ratio"] == round((255 / 130) / 2, 3)
    assert figures["outcomes_after_queue_deleted"]["missing"] == 0
    assert set(figures["checks"].values()) == {True}
    assert figures["ok"] is True and report.ok


def test_one_broker_consumer_timeout_fails_the_run_by_name() -> None:
    # Given a run in which the broker timed a consumer out once
    report = _report(broker_consumer_timeouts=1)
    # When it is judged
    checks = outage_dict(report)["checks"]
    # Then only that check fails, and with it the run
    assert isinstance(checks, dict)
    assert [name for name, passed in checks.items() if not passed] == [
        "no_broker_consumer_timeouts"
    ]
    assert not report.ok


def test_a_short_outage_a_slow_steady_office_and_a_missing_outcome_fail_by_name() -> None:
    # Given outages of 20 timeouts, steady offices at a third of their pace, a lost outcome
    slow = Rates(offices=("office-008",), before=Window(start_s=0.0, end_s=30.0),
                 during=Window(start_s=30.0, end_s=160.0), before_applied=60,
                 during_applied=87, slowest_slice=0)
    short = tuple(replace(h, timeouts=20.0) for h in _report().outage.held)
    missing = Delivery(vendor="vendor-02", decided=400, received=399, missing=("k9",))
    report = _report(rates=slow, held=short, delivery=missing)
    # When it is judged
    failed = [name for name, passed in report.checks.items() if not passed]
    # Then those three checks fail
    assert failed == ["outages_long_enough", "steady_rate_kept", "outcomes_delivered"]


def test_a_steady_offices_intent_dead_lettered_fails_the_run() -> None:
    # Given a steady office's intent the broker dead-lettered while other offices were held
    report = _report(steady_not_applied=Counter({"dead:delivery_limit": 1}))
    # When it is judged
    figures = outage_dict(report)
    # Then it is named, and its check fails
    assert figures["steady_not_applied"] == {"dead:delivery_limit": 1}
    assert [name for name, passed in report.checks.items() if not passed] == [
        "steady_work_applied"
    ]


def test_the_text_view_names_the_verdict_the_outages_and_each_check() -> None:
    # Given a run whose broker dead-lettered two messages by itself
    report = _report(broker_dead_lettered=2)
    # When it is rendered for people
    text = outage_text(report)
    # Then the verdict is the outage run's, each held office has its line, and the check fails
    assert text.startswith("hub chaos --outage, run 0badf00d: FAILED")
    assert "office-005" in text and "unauthorized" in text
    assert "dead-lettered 2 messages by itself" in text
    assert "FAIL no_broker_dead_letters" in text
