"""The outage run's report: the chaos run's accounting (every intent applied, rejected, dead or
lost; duplicates), and what the long outages did: the broker's own timeouts and dead letters,
order, the held offices' work, the steady offices' pace, a deleted queue's outcomes.

``checks`` names each condition of a sound hub (issue 15's "done when", and no consumer timed
out); ``ok`` is all of them. Intents are named by vendor and idempotency key only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from lab.chaos.outage.accounting import Delivery, Held, Rates
from lab.chaos.outage.timeline import OUTAGES, Window
from lab.chaos.report import LISTED_MAX, ChaosReport, report_dict

MIN_OUTAGE_TIMEOUTS = 25.0
MIN_RATE_RATIO = 0.9


@dataclass(frozen=True, kw_only=True)
class OutageFigures:
    consumer_timeout_s: float
    broker_consumer_timeouts: int  # the node's log: channels closed for an unacked delivery
    broker_dead_lettered: int  # in hub.dead by the broker itself (x-death, no hub reason)
    out_of_order: Counter[str]  # by office
    held: tuple[Held, ...]  # every disrupted office, then the paused vendor
    rates: Rates  # the steady offices'
    steady_not_applied: Counter[str]  # the steady offices' intents meant to apply, by end
    delivery: Delivery  # the vendor whose outcome queue was deleted
    queue_gone: Window
    refused_publishes: Mapping[str, int]  # publishes the broker refused and the vendor kept
    refused_by_simulator: Mapping[str, int]  # requests the simulator's outages refused, by office


@dataclass(frozen=True, kw_only=True)
class OutageReport:
    base: ChaosReport
    outage: OutageFigures

    def _outages(self) -> list[Held]:
        return [h for h in self.outage.held if h.disruption in set(OUTAGES)]

    @property
    def outage_timeouts(self) -> float:
        """The longest outage, in the node's consumer timeouts."""
        return max((h.timeouts for h in self._outages()), default=0.0)

    @property
    def shortest_outage_timeouts(self) -> float:
        return min((h.timeouts for h in self._outages()), default=0.0)

    @property
    def checks(self) -> dict[str, bool]:
        o, base = self.outage, self.base
        ratio = o.rates.ratio
        return {
            "nothing_lost": base.lost == 0,
            "nothing_duplicated": base.accounting.duplicates.total == 0,
            "refusals_in_dead_letter_queue": base.dead_lettered_ok,
            "no_broker_dead_letters": o.broker_dead_lettered == 0,
            "no_broker_consumer_timeouts": o.broker_consumer_timeouts == 0,
            "in_order": sum(o.out_of_order.values()) == 0,
            "outages_long_enough": self.shortest_outage_timeouts >= MIN_OUTAGE_TIMEOUTS,
            "held_work_applied": all(h.all_applied for h in o.held),
            "steady_work_applied": not o.steady_not_applied,
            "steady_rate_kept": ratio is not None and ratio >= MIN_RATE_RATIO,
            "outcomes_delivered": not o.delivery.missing,
            "drained": base.chaos.drained,
        }

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


def _window(window: Window) -> dict[str, float]:
    return {"start_s": round(window.start_s, 1), "end_s": round(window.end_s, 1)}


def _held(h: Held, refused: Mapping[str, int]) -> dict[str, object]:
    return {
        "name": h.name, "disruption": h.disruption, **_window(h.window),
        "timeouts": round(h.timeouts, 1), "published": h.published, "to_apply": h.to_apply,
        "applied": h.applied, "applied_after_return": h.applied_after,
        "all_applied": h.all_applied, "not_applied": dict(h.not_applied),
        "refused_by_simulator": refused.get(h.name),
    }


def _rates(r: Rates) -> dict[str, object]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "offices": list(r.offices), "before": _window(r.before), "during": _window(r.during),
        "before_applied": r.before_applied, "during_applied": r.during_applied,
        "before_per_s": rounded(r.before_per_s), "during_per_s": rounded(r.during_per_s),
        "ratio": rounded(r.ratio), "slowest_slice_ratio": rounded(r.slowest_slice_ratio),
    }


def _delivery(d: Delivery, gone: Window) -> dict[str, object]:
    return {
        "vendor": d.vendor, "queue_gone": _window(gone), "decided": d.decided,
        "received": d.received, "missing": len(d.missing),
        "missing_intents": list(d.missing[:LISTED_MAX]),
    }


def outage_dict(report: OutageReport) -> dict[str, object]:
    o = report.outage
    return {
        **report_dict(report.base),
        "ok": report.ok,
        "mode": "outage",
        "outage_timeouts": round(report.outage_timeouts, 1),
        "shortest_outage_timeouts": round(report.shortest_outage_timeouts, 1),
        "consumer_timeout_s": o.consumer_timeout_s,
        "broker_consumer_timeouts": o.broker_consumer_timeouts,
        "broker_dead_lettered": o.broker_dead_lettered,
        "out_of_order": sum(o.out_of_order.values()),
        "out_of_order_by_office": dict(sorted(o.out_of_order.items())),
        "held": [_held(h, o.refused_by_simulator) for h in o.held],
        "steady_rate": _rates(o.rates),
        "steady_not_applied": dict(o.steady_not_applied),
        "outcomes_after_queue_deleted": _delivery(o.delivery, o.queue_gone),
        "refused_publishes": dict(o.refused_publishes),
        "checks": report.checks,
    }


def outage_json(report: OutageReport) -> str:
    return json.dumps(outage_dict(report), sort_keys=False)
