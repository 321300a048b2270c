"""``hub chaos --outage`` for people: the chaos run's table, then what the outages did, office by
office, then each check."""

from __future__ import annotations

from hub.trace.text_view import align
from lab.chaos.outage.accounting import Held
from lab.chaos.outage.report import OutageReport
from lab.chaos.text_view import report_text


def _held_rows(report: OutageReport) -> list[str]:
    rows = [["", "how", "from-to (s)", "timeouts", "to apply", "applied", "after return"]]
    for h in report.outage.held:
        rows.append([
            h.name, h.disruption, f"{h.window.start_s:.0f}-{h.window.end_s:.0f}",
            f"{h.timeouts:.1f}", str(h.to_apply), str(h.applied), str(h.applied_after),
        ])
    return align(rows)


def _not_applied(held: tuple[Held, ...]) -> list[str]:
    return [
        f"  {h.name}: not applied: "
        + ", ".join(f"{label} {n}" for label, n in sorted(h.not_applied.items()))
        for h in held if h.not_applied
    ]


def _broker(report: OutageReport) -> list[str]:
    o = report.outage
    by_office = ", ".join(f"{office} {n}" for office, n in sorted(o.out_of_order.items()))
    return [
        f"node consumer_timeout {o.consumer_timeout_s:g} s; longest outage "
        f"{report.outage_timeouts:.1f} timeouts, shortest {report.shortest_outage_timeouts:.1f}",
        f"broker timed a consumer out {o.broker_consumer_timeouts} times; "
        f"dead-lettered {o.broker_dead_lettered} messages by itself",
        f"applied out of order: {sum(o.out_of_order.values())}"
        + (f" ({by_office})" if by_office else ""),
    ]


def _pace(report: OutageReport) -> list[str]:
    o = report.outage
    r, d = o.rates, o.delivery
    ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
    slowest = "-" if r.slowest_slice_ratio is None else f"{r.slowest_slice_ratio:.2f}"
    refused = ", ".join(f"{v} {n}" for v, n in sorted(o.refused_publishes.items())) or "none"
    lost_steady = ", ".join(f"{label} {n}" for label, n in sorted(o.steady_not_applied.items()))
    return [
        f"steady offices applied {r.before_per_s:.2f}/s before the outages, "
        f"{r.during_per_s:.2f}/s during them: ratio {ratio} (slowest 10 s: {slowest}); "
        f"not applied: {lost_steady or 'none'}",
        f"{d.vendor}'s outcome queue deleted and declared again: {d.received} of its "
        f"{d.decided} decided intents had an outcome, {len(d.missing)} never did",
        f"publishes refused while paused, kept and sent again: {refused}",
    ]


def outage_text(report: OutageReport) -> str:
    checks = [f"  {'ok  ' if passed else 'FAIL'} {name}"
              for name, passed in report.checks.items()]
    # The chaos run's text without its verdict line: the verdict here is the outage run's.
    _, common = report_text(report.base).split("\n", 1)
    verdict = "ok" if report.ok else "FAILED"
    return "\n".join([
        f"hub chaos --outage, run {report.base.run_id}: {verdict}", common,
        "", "Outages (seconds from the start of publishing):",
        *_held_rows(report), *_not_applied(report.outage.held), "",
        *_broker(report), *_pace(report), "", "Checks:", *checks,
    ])
