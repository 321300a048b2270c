"""``hub chaos`` for people: the accounting as a table, then the doors the watch gave the run's
changes, then the chaos done, the order kept and the offices' spread over the writers after each
change, then anything wrong, named by vendor, idempotency key and contract
(a change by table and key)."""

from __future__ import annotations

from collections.abc import Mapping

from hub.trace.text_view import align
from lab.chaos.report import ChaosReport, report_dict


def _by(counts: object) -> str:
    if not isinstance(counts, Mapping) or not counts:
        return "-"
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))


def _table(figures: Mapping[str, object]) -> list[str]:
    rows = [
        ["published", str(figures["published"]),
         f"confirmed by the broker; {figures['resent']} exact re-sends on top, "
         f"{figures['unconfirmed']} never confirmed"],
        ["applied", str(figures["applied"]), "ledger applied, and the row is in Open Dental"],
        ["rejected", str(figures["rejected"]), _by(figures["rejected_by_reason"])],
        ["dead", str(figures["dead"]), _by(figures["dead_by_reason"])],
        ["lost", str(figures["lost"]), "no terminal status, or applied without its row"],
        ["duplicated", str(figures["duplicated"]),
         f"natural-key groups with more than one row: {_by(figures['duplicated_by_table'])}"],
        ["sheet fields", f"{figures['sheet_fields_missing']}/{figures['sheet_fields_set_twice']}",
         "missing / set twice (Open Dental's log of SheetFields PUTs)"],
        ["in the DLQ", "yes" if figures["dead_lettered_ok"] else "NO",
         f"every rejected and dead intent, with its reason "
         f"({figures['dead_letters_scanned']} dead letters read)"],
    ]
    return align(rows)


def _doors(figures: Mapping[str, object]) -> list[str]:
    if "hub_changes" not in figures:
        return []
    return [
        f"watch ({figures['watch_scans']} scans): {figures['hub_changes_attributed']} of "
        f"{figures['hub_changes']} hub changes attributed to their intent "
        f"({figures['hub_changes_collapsed']} through a later intent on the row in the same "
        f"scan), {figures['hub_changes_intent_unknown']} to the hub before the ledger knew "
        f"the intent's row; {figures['hub_changes_unexplained']} changes of the hub's rows "
        f"given another door ({_by(figures['hub_changes_unexplained_by_door'])})",
        f"rogue: {figures['rogue_flagged']} of {figures['rogue_injected']} direct writes "
        f"flagged unexplained",
    ]


def _chaos(figures: Mapping[str, object]) -> list[str]:
    own_exits = len(_list(figures, "writer_own_exits"))
    return [
        f"writer killed {figures['writer_kills']} times (SIGKILL), started "
        f"{figures['writer_starts']} times, exited by itself {own_exits} times; "
        f"broker restarted {figures['broker_restarts']} times; "
        f"{figures['kills_inside_sheet_fill']} kills landed inside a sheet.fill",
        f"simulator injected: {_by(figures['faults_injected'])}",
        f"drained before the timeout: {'yes' if figures['drained'] else 'NO'}; "
        f"{figures['elapsed_s']} s",
    ]


def _fleet(figures: Mapping[str, object]) -> list[str]:
    """Order within the offices, and the offices' spread over the writers after each change."""
    lines = []
    if "out_of_order" in figures:
        lines.append(f"applied out of their office's order: {figures['out_of_order']} "
                     f"({_by(figures['out_of_order_by_office'])})")
    spread, handover = figures.get("offices_per_writer"), figures.get("handover_s")
    if not isinstance(spread, Mapping) or not isinstance(handover, Mapping):
        return lines
    lines.append(
        f"writers: {figures['writers']} (+{figures['writers_joined']} joined); offices per "
        f"live writer once settled, worst max/min {_worst(spread['worst'])}; hand-over "
        f"p50 {handover['p50']} s, max {handover['max']} s; "
        f"{spread['unsettled']} changes never settled"
    )
    changes = spread["after_each_change"]
    rows = [["at s", "change", "writers", "max/min", "settled after s"]]
    for c in changes if isinstance(changes, list) else []:
        settled = (f"NEVER ({c.get('why') or 'no look'})" if c["settle_s"] is None
                   else str(c["settle_s"]))
        rows.append([str(c["at_s"]), str(c["event"]), str(c["writers"] or "-"),
                     f"{c['max']}/{c['min']}", settled])
    return [*lines, *(f"  {line}" for line in align(rows))]


def _worst(worst: object) -> str:
    if not isinstance(worst, Mapping) or not worst:
        return "-"
    return ", ".join(f"{w['max']}/{w['min']} over {n}" for n, w in worst.items())


def _list(figures: Mapping[str, object], name: str) -> list[object]:
    value = figures[name]
    return list(value) if isinstance(value, list) else []


def _problems(figures: Mapping[str, object]) -> list[str]:
    lines = []
    for title, name in (("Lost", "lost_intents"), ("Not in hub.dead", "not_in_dead_letter_queue"),
                        ("Refused, yet in Open Dental", "unapplied_with_row_intents")):
        listed = _list(figures, name)
        if listed:
            lines.append(f"{title}:")
            lines += [f"  {item}" for item in listed]
    for title, name in (("Hub changes not attributed", "hub_changes_missed"),
                        ("Hub changes with the intent unknown", "hub_changes_intent_unknown_list"),
                        ("Hub changes named after an earlier intent", "hub_changes_other_intent"),
                        ("Rogue changes not flagged", "rogue_missed")):
        listed = _list(figures, name) if name in figures else []
        if listed:
            lines.append(f"{title}:")
            lines += [f"  {item}" for item in listed]
    if figures["unexpected_ends"]:
        lines.append(f"Not as planned: {_by(figures['unexpected_ends'])}")
    return lines


def report_text(report: ChaosReport) -> str:
    figures = report_dict(report)
    verdict = "ok" if report.ok else "FAILED"
    return "\n".join([
        f"hub chaos, run {report.run_id}: {verdict}", "",
        *_table(figures), "", *_doors(figures), *_chaos(figures), *_fleet(figures),
        *(["", *_problems(figures)] if _problems(figures) else []),
    ])
