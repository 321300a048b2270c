"""``hub demo`` for people: the outcome table, the refusals with their reasons, the checks, and
one full ``hub trace``. Ids, keys, contracts and reasons only."""

from __future__ import annotations

from hub.trace.text_view import align
from hub.watch import Attribution
from lab.demo.report import DemoReport, by_vendor_rows

PASS, FAIL = "ok  ", "FAIL"
SHOWN_COLUMNS = 3


def _counts(report: DemoReport) -> str:
    tally = report.tally
    return (
        f"published {tally.published} (confirmed by the broker), applied {tally.applied}, "
        f"duplicates {tally.duplicates}, rejected {sum(tally.rejected.values())}, "
        f"dead {sum(tally.dead.values())}, unaccounted {tally.unaccounted}; "
        f"refused by the broker {len(tally.refused_by_broker)}"
    )


def _refusals(report: DemoReport) -> list[str]:
    rows = [
        ["broker", f"{s.step.login} as {s.step.user_id}", s.step.routing_key, s.reply or "-"]
        for s in report.tally.refused_by_broker
    ]
    for result in report.results:
        event = result.event
        if event is None or event.duplicate or event.reason is None:
            continue
        errors = ", ".join(f"{e.path} {e.rule}" for e in event.errors)
        why = f"{event.reason.value}: {errors or event.message or '-'}"
        rows.append(["writer", event.vendor, f"{event.office_id}.{event.contract}", why])
    return ["Refused, with the reason", *align(rows)]


def _checks(report: DemoReport) -> list[str]:
    ok = report.checks
    tables = ", ".join(f"{t.table} {t.rows}/{t.applied_creates}" for t in report.tables)
    repeats = ", ".join(
        f"{r.key} ({r.published} published, {r.api_calls} call)" for r in report.repeats
    )
    lines = [
        (ok["outcomes_match_script"],
         f"every step ended as the script expects ({len(report.results)} steps)"),
        (ok["od_rows_per_applied_create"],
         f"Open Dental holds exactly the applied creates' rows, by natural key "
         f"({len(report.rows)} keys, SQL)"),
        (ok["od_rows_by_table"], f"the run's rows per table, rows/applied creates: {tables}"),
        (ok["repeated_keys_made_one_api_call"],
         f"repeated keys made one API call each (ledger): {repeats or 'none'}"),
        (ok["od_rows_per_applied_change"],
         "Open Dental holds each applied reschedule's values, each note once and each "
         "sheet's fields as sent "
         f"({len(report.changes)} changes, SQL)"),
    ]
    doors = report.doors
    if doors is not None:
        door_checks = doors.checks
        wrong = [name for name, good in door_checks.items() if not good]
        lines.append((ok["changes_by_door"],
                      f"the watch attributed each door within one scan: {len(doors.hub_rows)} "
                      "hub rows to their vendor and intent, the front desk's UserNum, the other "
                      f"DevName, the direct write's stale hash; {doors.reader} told of the "
                      "reschedule, nobody else told"
                      + (f" (failed: {', '.join(wrong)})" if wrong else "")))
    else:
        lines.append((False, "the doors were not reached"))
    if report.links:
        links = ", ".join(
            f"{link.link} {link.version or ('plain' if link.seen else 'not seen')}"
            for link in report.links
        )
        lines.append((ok["every_link_over_tls"],
                      f"every link over TLS, as RabbitMQ and MariaDB saw it: {links}"))
    return ["Checks", *[f"  {PASS if good else FAIL}  {text}" for good, text in lines]]


def _columns(change: Attribution) -> str:
    if change.first_seen:
        return "new row"
    shown = list(change.columns[:SHOWN_COLUMNS])
    more = len(change.columns) - len(shown)
    return ", ".join(shown + ([f"+{more}"] if more else [])) or "-"


def _doors(report: DemoReport) -> list[str]:
    doors = report.doors
    if doors is None:
        return []
    rows = [["door", "example", "columns", "who", "changes"]]
    for door, change, who in doors.examples():
        where = "-" if change is None else f"{change.table.value}:{change.key}"
        columns = "-" if change is None else _columns(change)
        rows.append([door, where, columns, who, str(doors.counts[door])])
    told = ", ".join(
        f"{vendor} {len(events)}" for vendor, events in sorted(doors.told.items())
    )
    return ["Changes by door (the watch's scans after the intents and after the other doors)",
            *align(rows),
            f"  change events told: {told or 'none'}", ""]


def report_text(report: DemoReport) -> str:
    lines = [
        f"hub demo, run {report.run.id}: {'ok' if report.ok else 'FAILED'}",
        "",
        "Outcomes by vendor",
        *align(by_vendor_rows(report.tally)),
        "",
        _counts(report),
        "",
        *_refusals(report),
        "",
        *_doors(report),
        *_checks(report),
        "",
        f"Trace of one appointment booked by PatientRef: hub trace {report.trace_target}",
        report.trace_text or "  (the ledger has no such intent)",
    ]
    if report.leftovers:
        lines.insert(1, f"({report.leftovers} outcome event(s) of earlier runs acked and ignored)")
    return "\n".join(lines)
