"""What a final verdict writes: the outcome event, the ledger's ``Finish`` and the dead-letter
headers. Pure functions, so every reason's shape is tested without a broker."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from aio_pika.abc import FieldValue

from contracts import OdRow, OutcomeEvent, OutcomeStatus
from hub import names
from hub.ledger import Finish, IntentStatus
from hub.writer import constants as c
from hub.writer.verdict import Outcome, Verdict

_STATUS = {
    Outcome.APPLIED: OutcomeStatus.APPLIED,
    Outcome.REJECTED: OutcomeStatus.REJECTED,
    Outcome.DEAD: OutcomeStatus.DEAD,
}


def outcome_event(verdict: Verdict, decided_at: datetime) -> OutcomeEvent | None:
    """The event for the vendor, or None when there is nobody to route it to."""
    about = verdict.about
    if verdict.outcome is Outcome.DUPLICATE:
        return repeated(verdict.repeat_json)
    if about.vendor is None or not about.vendor_known or verdict.outcome not in _STATUS:
        return None
    return OutcomeEvent(
        vendor=about.vendor,
        idempotency_key=about.idempotency_key or "",
        office_id=about.office,
        contract=about.contract or c.UNKNOWN_CONTRACT,
        version=about.version,
        status=_STATUS[verdict.outcome],
        reason=verdict.reason,
        errors=list(verdict.errors),
        od=[] if verdict.od is None else [verdict.od],
        message=verdict.message,
        decided_at=decided_at,
        correlation_id=about.correlation_id,
    )


def repeated(outcome_json: str | None) -> OutcomeEvent | None:
    """The first outcome of an intent, marked as a repeat; None if the ledger kept none."""
    if outcome_json is None:
        return None
    return OutcomeEvent.from_json(outcome_json).model_copy(update={"duplicate": True})


def finish_of(verdict: Verdict, event: OutcomeEvent | None) -> Finish:
    """The ledger's terminal state for a final verdict."""
    od: OdRow | None = verdict.od
    return Finish(
        status=IntentStatus(_STATUS[verdict.outcome].value),
        od_table=None if od is None else od.table,
        od_primary_key=None if od is None else od.primary_key,
        reason=None if verdict.reason is None else verdict.reason.value,
        last_error=None if verdict.outcome is Outcome.APPLIED else verdict.message,
        outcome_json=None if event is None else event.to_json(),
        refs=verdict.refs,
        calls=verdict.calls,
    )


def dead_letter_headers(verdict: Verdict, *, dead_lettered_at: datetime) -> dict[str, FieldValue]:
    """The headers that say why a message sits in ``hub.dead``: ids, field paths and times."""
    about = verdict.about
    headers: dict[str, FieldValue] = {
        names.HEADER_REASON: "" if verdict.reason is None else verdict.reason.value,
        names.HEADER_VENDOR: about.vendor or c.NO_VENDOR,
        names.HEADER_OFFICE: about.office,
        names.HEADER_CONTRACT: about.contract or c.UNKNOWN_CONTRACT,
        names.HEADER_DEAD_LETTERED_AT: dead_lettered_at.isoformat(),
        names.HEADER_ATTEMPTS: about.attempt or 0,
    }
    if verdict.errors:
        paths = [{"path": error.path, "rule": error.rule} for error in verdict.errors]
        headers[names.HEADER_ERRORS] = _compact(paths)
    if verdict.candidates:
        rows = [{"table": row.table, "primary_key": row.primary_key} for row in verdict.candidates]
        headers[names.HEADER_CANDIDATES] = _compact(rows)
    if about.idempotency_key is not None:
        headers[names.HEADER_IDEMPOTENCY_KEY] = about.idempotency_key
    if about.intent_id is not None:
        headers[names.HEADER_INTENT_ID] = about.intent_id
    return headers


def _compact(rows: Sequence[Mapping[str, object]]) -> str:
    return json.dumps(rows, separators=(",", ":"))
