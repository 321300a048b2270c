"""The run's report: the accounting's figures, the chaos that was done, and the verdict.

``report_json`` prints one JSON object; ``text_view`` renders the same for people. Intents are
named by vendor, idempotency key and contract only, never by patient data.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from lab.chaos.accounting import Accounting, Ended
from lab.chaos.door_accounting import DoorAccounting
from lab.chaos.spread import SpreadFigures

LISTED_MAX = 50  # intents listed by name per kind of problem


@dataclass(frozen=True, kw_only=True)
class Chaos:
    """What was done to the hub, and what it did by itself."""

    writer_kills: int
    writer_starts: int
    writer_own_exits: tuple[int, ...]  # exit codes of writers that ended without a kill
    broker_restarts: int
    faults_injected: Mapping[str, int]  # by the simulator, by fault
    drained: bool  # the writer finished before the drain timeout
    kills_inside_sheet_fill: int = 0  # kills between a sheet.fill's first and last call


@dataclass(frozen=True, kw_only=True)
class ChaosReport:
    run_id: str
    options: Mapping[str, int | float | None]
    elapsed_s: float
    accounting: Accounting
    chaos: Chaos
    doors: DoorAccounting | None = None  # the watch's account of every change (not --outage)
    spread: SpreadFigures | None = None  # offices per writer after each change (not --outage)
    out_of_order: Counter[str] | None = None  # by office (not --outage: it has its own)

    @property
    def lost(self) -> int:
        return self.accounting.count("lost")

    @property
    def dead_lettered_ok(self) -> bool:
        return self.accounting.letters_complete and not self.accounting.not_in_dlq

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing doubled (no sheet field missing or set twice), every refusal
        in the dead-letter queue with its reason, every intent ended as planned; and, when the
        run watched, every hub change attributed to its intent, none of the hub's rows given
        another door, every rogue change flagged; nothing applied out of its office's order;
        after each change of the writers, the offices settled evenly over the live ones."""
        a = self.accounting
        if self.doors is not None and not self.doors.ok:
            return False
        if self.spread is not None and not self.spread.ok:
            return False
        if self.out_of_order is not None and self.out_of_order.total() > 0:
            return False
        return (self.lost == 0 and a.duplicates.total == 0 and self.dead_lettered_ok
                and a.sheets.fields_missing == 0 and a.sheets.fields_set_twice == 0
                and not a.unexpected)


def _named(ended: tuple[Ended, ...]) -> list[dict[str, str | None]]:
    return [
        {"vendor": e.planned.vendor, "idempotency_key": e.planned.key,
         "contract": e.planned.contract, "end": e.end.label, "why": e.end.why}
        for e in ended[:LISTED_MAX]
    ]


def _figures(report: ChaosReport) -> dict[str, object]:
    a = report.accounting
    return {
        "published": len(a.ended),
        "applied": a.count("applied"),
        "rejected": a.count("rejected"),
        "dead": a.count("dead"),
        "duplicated": a.duplicates.total,
        "lost": report.lost,
        "writer_kills": report.chaos.writer_kills,
        "kills_inside_sheet_fill": report.chaos.kills_inside_sheet_fill,
        "sheet_fields_missing": a.sheets.fields_missing,
        "sheet_fields_set_twice": a.sheets.fields_set_twice,
        "broker_restarts": report.chaos.broker_restarts,
        "dead_lettered_ok": report.dead_lettered_ok,
        "elapsed_s": round(report.elapsed_s, 1),
    }


def report_dict(report: ChaosReport) -> dict[str, object]:
    a, chaos = report.accounting, report.chaos
    lost = tuple(e for e in a.ended if e.end.status == "lost")
    return {
        "ok": report.ok,
        **_figures(report),
        "run_id": report.run_id,
        "options": dict(report.options),
        "rejected_by_reason": dict(a.reasons("rejected")),
        "dead_by_reason": dict(a.reasons("dead")),
        "duplicated_by_table": dict(a.duplicates.groups),
        "duplicated_extra_rows": sum(a.duplicates.extra_rows.values()),
        "resent": a.resent,
        "unconfirmed": len(a.unconfirmed),
        "lost_intents": _named(lost),
        "not_in_dead_letter_queue": _named(a.not_in_dlq),
        "dead_letters_scanned": a.letters_scanned,
        "unapplied_with_row": len(a.unapplied_with_row),
        "unapplied_with_row_intents": _named(a.unapplied_with_row),
        "unexpected_ends": dict(a.unexpected),
        "writer_starts": chaos.writer_starts,
        "writer_own_exits": list(chaos.writer_own_exits),
        "faults_injected": dict(chaos.faults_injected),
        "drained": chaos.drained,
        **({} if report.doors is None else doors_dict(report.doors)),
        **({} if report.out_of_order is None else {
            "out_of_order": report.out_of_order.total(),
            "out_of_order_by_office": dict(sorted(report.out_of_order.items())),
        }),
        **({} if report.spread is None else spread_dict(report.spread)),
    }


def spread_dict(spread: SpreadFigures) -> dict[str, object]:
    return {
        "writers": spread.writers,
        "writers_joined": spread.joined,
        "offices_per_writer": {
            # By live writers: the average moves with a join.
            "worst": {str(n): {"max": high, "min": low}
                      for n, (high, low) in spread.worst().items()},
            "unsettled": spread.unsettled,
            "after_each_change": [
                {"at_s": c.at_s, "event": c.event, "writers": c.writers, "max": c.max,
                 "min": c.min, "settle_s": c.settle_s, **({"why": c.why} if c.why else {})}
                for c in spread.changes
            ],
        },
        "handover_s": spread.handover_s(),
    }


def doors_dict(doors: DoorAccounting) -> dict[str, object]:
    return {
        "hub_changes": doors.hub_changes,
        "hub_changes_attributed": doors.hub_attributed,
        "hub_changes_collapsed": doors.hub_collapsed,
        "hub_changes_intent_unknown": len(doors.hub_intent_unknown),
        "hub_changes_intent_unknown_list": [
            m.named() for m in doors.hub_intent_unknown[:LISTED_MAX]
        ],
        "hub_changes_other_intent": [m.named() for m in doors.hub_other_intent[:LISTED_MAX]],
        "hub_changes_unexplained": doors.hub_unexplained,
        "hub_changes_unexplained_by_door": dict(doors.unexplained_doors),
        "hub_changes_unexplained_list": [
            {"table": s.table, "key": s.key, "door": s.door.value, "stamp": s.stamp.isoformat()}
            for s in doors.unexplained_seen[:LISTED_MAX]
        ],
        "hub_changes_missed": [m.named() for m in doors.misses[:LISTED_MAX]],
        "rogue_injected": doors.rogue_injected,
        "rogue_flagged": doors.rogue_flagged,
        "rogue_missed": [
            {"office": c.office_id, "table": c.table, "key": c.key, "act": c.act,
             "at": c.at.isoformat()} for c in doors.rogue_missed[:LISTED_MAX]
        ],
        "watch_scans": doors.scans,
    }


def report_json(report: ChaosReport) -> str:
    return json.dumps(report_dict(report), sort_keys=False)
