"""What a demo run found, for people (a table, the checks, one full trace) and as one JSON object.

JSON shape: ``run_id``, ``ok``; the counts ``published`` (confirmed by the broker), ``applied``,
``duplicates``, ``rejected`` (+ ``rejected_by_reason``), ``dead`` (+ ``dead_by_reason``),
``unaccounted`` (published minus every terminal outcome), ``refused_by_broker`` (+
``broker_refusals`` with each reply); ``writer_rejections`` (reason, message, field errors);
``by_vendor`` (publishing vendor → label → count); ``checks`` (``outcomes_match_script``,
``od_rows_per_applied_create``, ``od_rows_by_table``, ``repeated_keys_made_one_api_call``,
``od_rows_per_applied_change``, ``changes_by_door`` (with each door's check), each with ``ok``;
and ``every_link_over_tls`` when run over TLS, with each link's protocol); ``doors`` (the watch's
one scan: ``changes``, ``by_door``, one example per door with its ids, ``hub_rows`` checked and
``hub_mismatches``, and the ``change_events`` each vendor got: row, door, column names and which
carried a value); ``leftover_events_acked``; ``trace`` (the traced intent and its command).
Ids, keys, contracts and reasons only: no patient data.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from lab.demo.accounting import StepResult, Tally
from lab.demo.change_checks import ChangeCheck
from lab.demo.checks import RepeatCalls, RowCheck, TableCount
from lab.demo.doors import DoorsReport
from lab.demo.local_tls import LinkTls
from lab.demo.people import Run

Json = dict[str, object]


@dataclass(frozen=True, kw_only=True)
class DemoReport:
    run: Run
    tally: Tally
    results: tuple[StepResult, ...]
    rows: tuple[RowCheck, ...]
    tables: tuple[TableCount, ...]
    repeats: tuple[RepeatCalls, ...]
    leftovers: int  # outcome events of earlier runs, acked and ignored
    links: tuple[LinkTls, ...]  # each link as its server saw it; empty when run without TLS
    trace_target: str  # vendor:key of the intent traced
    trace_text: str | None  # ``hub trace`` of it; None when the ledger has no such intent
    changes: tuple[ChangeCheck, ...] = ()  # each applied reschedule, note and sheet read back
    doors: DoorsReport | None = None  # the four doors, one scan of the watch; None: not reached

    @property
    def checks(self) -> dict[str, bool]:
        return {
            "outcomes_match_script": not self.tally.mismatches,
            "od_rows_per_applied_create": all(check.ok for check in self.rows),
            "od_rows_by_table": all(t.rows == t.applied_creates for t in self.tables),
            "repeated_keys_made_one_api_call": bool(self.repeats)
            and all(r.ok for r in self.repeats),
            "od_rows_per_applied_change": all(check.ok for check in self.changes),
            "changes_by_door": self.doors is not None and all(self.doors.checks.values()),
        } | ({"every_link_over_tls": all(link.ok for link in self.links)} if self.links else {})

    @property
    def ok(self) -> bool:
        return self.tally.unaccounted == 0 and all(self.checks.values())


def _refusals(report: DemoReport) -> list[Json]:
    return [
        {
            "vendor": sent.step.login, "claimed_user_id": sent.step.user_id,
            "routing_key": sent.step.routing_key, "idempotency_key": sent.step.key,
            "code": sent.code, "reason": sent.reply,
        }
        for sent in report.tally.refused_by_broker
    ]


def _rejections(report: DemoReport) -> list[Json]:
    return [
        {
            "vendor": r.event.vendor, "idempotency_key": r.event.idempotency_key,
            "contract": r.event.contract, "status": r.event.status.value,
            "reason": None if r.event.reason is None else r.event.reason.value,
            "message": r.event.message,
            "errors": [{"path": e.path, "rule": e.rule} for e in r.event.errors],
        }
        for r in report.results
        if r.event is not None and not r.event.duplicate and r.event.reason is not None
    ]


def _checks_json(report: DemoReport) -> Json:
    ok = report.checks
    checks: Json = {
        "outcomes_match_script": {
            "ok": ok["outcomes_match_script"], "steps": len(report.results),
            "mismatches": [
                {"idempotency_key": r.sent.step.key, "expected": r.sent.step.expect,
                 "got": r.label or "unaccounted"}
                for r in report.tally.mismatches
            ],
        },
        "od_rows_per_applied_create": {
            "ok": ok["od_rows_per_applied_create"], "natural_keys_checked": len(report.rows),
            "applied_creates": sum(len(c.expected) for c in report.rows),
            "mismatches": [
                {"table": c.table, "idempotency_keys": list(c.keys),
                 "expected": list(c.expected), "found": list(c.found)}
                for c in report.rows if not c.ok
            ],
        },
        "od_rows_by_table": {
            "ok": ok["od_rows_by_table"],
            "tables": {
                t.table: {"applied_creates": t.applied_creates, "rows": t.rows}
                for t in report.tables
            },
        },
        "repeated_keys_made_one_api_call": {
            "ok": ok["repeated_keys_made_one_api_call"],
            "intents": [
                {"vendor": r.vendor, "idempotency_key": r.key, "published": r.published,
                 "deliveries": r.deliveries, "api_calls": r.api_calls}
                for r in report.repeats
            ],
        },
    }
    checks["od_rows_per_applied_change"] = {
        "ok": ok["od_rows_per_applied_change"],
        "changes": [
            {"contract": c.contract, "idempotency_key": c.key, "od_num": c.od_num,
             "ok": c.ok, "seen": c.seen}
            for c in report.changes
        ],
    }
    checks["changes_by_door"] = {"ok": ok["changes_by_door"]} | (
        {} if report.doors is None else dict(report.doors.checks)
    )
    if report.links:
        checks["every_link_over_tls"] = {
            "ok": ok["every_link_over_tls"],
            "links": [
                {"link": link.link, "tls": link.version, "seen": link.seen}
                for link in report.links
            ],
        }
    return checks


def _doors_json(doors: DoorsReport | None) -> Json | None:
    if doors is None:
        return None
    examples = {
        door: None if change is None else {
            "table": change.table.value, "key": change.key, "columns": list(change.columns),
            "vendor": change.vendor, "intent_id": change.intent_id,
            "user_num": change.user_num, "dev_name": change.dev_name,
            "stale_hash": change.stale_hash,
        }
        for door, change, _ in doors.examples()
    }
    return {
        "changes": len(doors.changes), "by_door": dict(doors.counts), "examples": examples,
        "hub_rows": len(doors.hub_rows),
        "hub_mismatches": [
            {"table": r.table, "key": r.key, "vendor": r.vendor, "intent_id": r.intent_id}
            for r in doors.hub_mismatches()
        ],
        "change_events": {
            vendor: [
                {"table": e.table.value, "key": e.primary_key, "door": e.door.value,
                 "columns": e.columns, "with_values": sorted(e.values)}
                for e in events
            ]
            for vendor, events in doors.told.items()
        },
    }


def report_json(report: DemoReport) -> str:
    tally = report.tally
    document: Json = {
        "run_id": report.run.id, "ok": report.ok,
        "published": tally.published, "applied": tally.applied,
        "duplicates": tally.duplicates,
        "rejected": sum(tally.rejected.values()), "rejected_by_reason": dict(tally.rejected),
        "dead": sum(tally.dead.values()), "dead_by_reason": dict(tally.dead),
        "unaccounted": tally.unaccounted,
        "refused_by_broker": len(tally.refused_by_broker), "broker_refusals": _refusals(report),
        "writer_rejections": _rejections(report),
        "by_vendor": {vendor: dict(labels) for vendor, labels in tally.by_vendor.items()},
        "checks": _checks_json(report),
        "doors": _doors_json(report.doors),
        "leftover_events_acked": report.leftovers,
        "trace": {"intent": report.trace_target, "command": f"hub trace {report.trace_target}"},
    }
    return json.dumps(document, indent=2)


def by_vendor_rows(tally: Tally) -> list[list[str]]:
    """One row per label, one column per publishing vendor, and the total."""
    vendors = sorted(tally.by_vendor)
    total: Counter[str] = Counter()
    for counts in tally.by_vendor.values():
        total.update(counts)
    rows = [["outcome", *vendors, "total"]]
    for label in sorted(total):
        cells = [str(tally.by_vendor[vendor][label]) for vendor in vendors]
        rows.append([label, *cells, str(total[label])])
    return rows
