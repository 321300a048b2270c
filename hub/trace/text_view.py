"""``hub trace`` for people: aligned sections and a timeline, ids only, never patient data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.ledger import ApiCallRow, IntentRow, IntentStory, RefRow
from hub.trace.models import AuditLine, IntentTrace, OdRow, RowAudit, RowTrace
from hub.trace.timefmt import rfc3339

INDENT = "  "
GAP = "  "
NONE = "-"


def align(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as lines, each column as wide as its widest cell; a row's last cell is not
    padded and does not widen its column, so a long note never pushes the others apart."""
    widths: dict[int, int] = {}
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths.get(index, 0), len(cell))
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[index]) for index, cell in enumerate(row[:-1])]
        lines.append(INDENT + GAP.join([*cells, *row[-1:]]).rstrip())
    return lines


def _when(moment: datetime) -> str:
    return rfc3339(moment, timespec="milliseconds")


def _or_none(value: object) -> str:
    return NONE if value is None else str(value)


def _row_name(row: OdRow) -> str:
    return f"{row.table.value} {row.primary_key}"


def _summary(trace: IntentTrace) -> list[str]:
    intent = trace.story.intent
    return [
        f"Intent {intent.vendor}:{intent.idempotency_key} (ledger id {intent.id})",
        *align([
            ["contract", f"{intent.contract} v{intent.contract_version}"],
            ["office", intent.office_id],
            ["status", intent.status.value],
            ["reason", _or_none(intent.reason)],
            ["last error", _or_none(intent.last_error)],
            ["message id", _or_none(intent.message_id)],
            ["correlation id", _or_none(intent.correlation_id)],
            ["deliveries", str(intent.deliveries)],
            ["attempts", str(intent.attempts)],
            ["api calls", str(len(trace.story.api_calls))],
            ["Open Dental row", NONE if trace.row is None else _row_name(trace.row)],
        ]),
    ]


def _call(call: ApiCallRow) -> list[str]:
    status = "no reply" if call.status is None else str(call.status)
    notes = [] if call.od_primary_key is None else [f"od id {call.od_primary_key}"]
    notes += [] if call.message is None else [call.message]
    return [
        _when(call.started_at), f"attempt {call.attempt}", call.method, call.path, status,
        f"{call.latency_ms} ms", "; ".join(notes),
    ]


def _end(intent: IntentRow) -> list[str]:
    outcome = intent.status.value + ("" if intent.reason is None else f" ({intent.reason})")
    if intent.finished_at is None:
        return [_when(intent.updated_at), "not finished", f"{outcome} so far"]
    return [_when(intent.finished_at), "finished", outcome]


def _timeline(story: IntentStory) -> list[str]:
    intent = story.intent
    received = [
        _when(intent.received_at), "received",
        f"message {_or_none(intent.message_id)}, delivered {intent.deliveries}x",
    ]
    calls = [_call(call) for call in story.api_calls]
    return ["Timeline (UTC)", *align([received, *calls, _end(intent)])]


def _cause(line: AuditLine, this_intent: int | None) -> str:
    cause = line.cause
    if cause is None:
        return "<- no intent on record: changed outside the hub"
    if cause.intent_id == this_intent:
        return "<- this intent"
    return f"<- {cause.vendor}:{cause.idempotency_key} (message {_or_none(cause.message_id)})"


def _audit(row: OdRow, audit: RowAudit, this_intent: int | None = None) -> list[str]:
    title = (
        f"Open Dental securitylog of {_row_name(row)} in office {row.office_id}"
        " (API entries, newest first, the office's local time)"
    )
    if audit.error is not None:
        return [title, f"{INDENT}could not be read: {audit.error}"]
    if not audit.lines:
        return [title, f"{INDENT}no entries"]
    cells = [
        [
            f"#{line.timed.entry.securitylog_num}",
            line.timed.entry.log_datetime.strftime("%Y-%m-%d %H:%M:%S"),
            line.timed.entry.perm_type, line.timed.entry.log_text, _cause(line, this_intent),
        ]
        for line in audit.lines
    ]
    return [title, *align(cells)]


def _refs(refs: Sequence[RefRow]) -> list[str]:
    if not refs:
        return ["Refs created", f"{INDENT}none"]
    return ["Refs created", *align([[r.kind.value, r.ref, f"-> {r.od_primary_key}"] for r in refs])]


def intent_text(trace: IntentTrace) -> str:
    sections = [_summary(trace), _timeline(trace.story)]
    if trace.row is not None and trace.audit is not None:
        sections.append(_audit(trace.row, trace.audit, trace.story.intent.id))
    sections.append(_refs(trace.story.refs))
    return "\n\n".join("\n".join(section) for section in sections)


def _intents(stories: Sequence[IntentStory]) -> list[str]:
    title = "Intents that created or changed it (oldest first, UTC)"
    if not stories:
        return [title, f"{INDENT}none: no intent in the hub's ledger created or changed this row"]
    header = ["RECEIVED", "VENDOR", "IDEMPOTENCY KEY", "CONTRACT", "STATUS", "MESSAGE ID"]
    rows = [
        [
            _when(i.received_at), i.vendor, i.idempotency_key,
            f"{i.contract} v{i.contract_version}", i.status.value, _or_none(i.message_id),
        ]
        for i in (story.intent for story in stories)
    ]
    return [title, *align([header, *rows])]


def row_text(trace: RowTrace) -> str:
    sections = [
        [f"Open Dental {_row_name(trace.row)} in office {trace.row.office_id}"],
        _intents(trace.stories),
        _audit(trace.row, trace.audit),
    ]
    return "\n\n".join("\n".join(section) for section in sections)
