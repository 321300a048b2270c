"""``hub trace --json``: one JSON object per trace, with stable keys.

Datetimes are RFC 3339 in UTC (``2025-05-01T14:03:07.120000Z``), except
``logged_at_office_local``: Open Dental's own ``LogDateTime`` as it stores it, the office's
local time with no offset (``2025-05-01T10:03:07``); ``logged_at`` is the same moment in UTC.
Absent values are ``null``, never missing keys. Nothing carries patient data: intent payloads
are not in the ledger (only their hash), and no Open Dental column but the ids and the
securitylog's own text is read.

An intent (``hub trace VENDOR:KEY --json``)::

    {"trace": "intent",
     "intent": INTENT,
     "api_calls": [{"id", "attempt", "method", "path", "status", "latency_ms",
                    "od_primary_key", "message", "started_at"}, ...],   # in the order made
     "od_row": ROW | null,             # null: the intent reached no Open Dental row
     "securitylog": AUDIT | null,      # null exactly when od_row is null
     "refs": [{"kind", "ref", "od_primary_key", "created_at"}, ...]}   # the refs it created

A row (``hub trace --od TABLE:KEY --json``)::

    {"trace": "row", "od_row": ROW, "intents": [INTENT, ...], "securitylog": AUDIT,
     "changes": [CHANGE, ...], "changes_error": str | null}
    # intents: every one that created or changed the row, oldest first ([] for none)
    # changes: every change hub watch attributed to a door, oldest first (CHANGE: the shape in
    # hub/watch/views.py; added by hub/cli/trace_cmd.py); changes_error: the watch's tables
    # could not be read

where::

    INTENT = {"id", "vendor", "idempotency_key", "contract", "contract_version", "office_id",
              "status", "reason", "last_error", "attempts", "deliveries", "message_id",
              "correlation_id", "payload_hash", "received_at", "attempt_started_at",
              "finished_at", "updated_at", "expires_at", "od_table", "od_primary_key"}
    ROW    = {"office_id", "table", "primary_key"}
    AUDIT  = {"error": str | null,     # the office database could not be read; entries is []
              "entries": [{"securitylog_num", "perm_type", "log_text", "user_num",
                           "logged_at_office_local", "logged_at",
                           "cause": {"intent_id", "vendor", "idempotency_key", "message_id",
                                     "api_call_id"} | null}, ...]}   # newest first
    # cause null: no intent on record made that change (made outside the hub)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TypeAlias

from hub.ledger import ApiCallRow, IntentRow, RefRow
from hub.trace.models import AuditLine, Cause, IntentTrace, OdRow, RowAudit, RowTrace
from hub.trace.timefmt import rfc3339, rfc3339_or_none

Json: TypeAlias = "str | int | bool | list[Json] | dict[str, Json] | None"


def _intent(intent: IntentRow) -> dict[str, Json]:
    return {
        "id": intent.id,
        "vendor": intent.vendor,
        "idempotency_key": intent.idempotency_key,
        "contract": intent.contract,
        "contract_version": intent.contract_version,
        "office_id": intent.office_id,
        "status": intent.status.value,
        "reason": intent.reason,
        "last_error": intent.last_error,
        "attempts": intent.attempts,
        "deliveries": intent.deliveries,
        "message_id": intent.message_id,
        "correlation_id": intent.correlation_id,
        "payload_hash": intent.payload_hash,
        "received_at": rfc3339(intent.received_at),
        "attempt_started_at": rfc3339_or_none(intent.attempt_started_at),
        "finished_at": rfc3339_or_none(intent.finished_at),
        "updated_at": rfc3339(intent.updated_at),
        "expires_at": rfc3339(intent.expires_at),
        "od_table": intent.od_table,
        "od_primary_key": intent.od_primary_key,
    }


def _api_call(call: ApiCallRow) -> dict[str, Json]:
    return {
        "id": call.id,
        "attempt": call.attempt,
        "method": call.method,
        "path": call.path,
        "status": call.status,
        "latency_ms": call.latency_ms,
        "od_primary_key": call.od_primary_key,
        "message": call.message,
        "started_at": rfc3339(call.started_at),
    }


def _ref(ref: RefRow) -> dict[str, Json]:
    return {
        "kind": ref.kind.value,
        "ref": ref.ref,
        "od_primary_key": ref.od_primary_key,
        "created_at": rfc3339(ref.created_at),
    }


def _row(row: OdRow) -> dict[str, Json]:
    return {"office_id": row.office_id, "table": row.table.value, "primary_key": row.primary_key}


def _cause(cause: Cause | None) -> dict[str, Json] | None:
    if cause is None:
        return None
    return {
        "intent_id": cause.intent_id,
        "vendor": cause.vendor,
        "idempotency_key": cause.idempotency_key,
        "message_id": cause.message_id,
        "api_call_id": cause.api_call_id,
    }


def _local(moment: datetime) -> str:
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


def _line(line: AuditLine) -> dict[str, Json]:
    entry = line.timed.entry
    return {
        "securitylog_num": entry.securitylog_num,
        "perm_type": entry.perm_type,
        "log_text": entry.log_text,
        "user_num": entry.user_num,
        "logged_at_office_local": _local(entry.log_datetime),
        "logged_at": rfc3339_or_none(line.timed.logged_at),
        "cause": _cause(line.cause),
    }


def _audit(audit: RowAudit) -> dict[str, Json]:
    return {"error": audit.error, "entries": [_line(line) for line in audit.lines]}


def intent_json(trace: IntentTrace) -> str:
    story = trace.story
    document: dict[str, Json] = {
        "trace": "intent",
        "intent": _intent(story.intent),
        "api_calls": [_api_call(call) for call in story.api_calls],
        "od_row": None if trace.row is None else _row(trace.row),
        "securitylog": None if trace.audit is None else _audit(trace.audit),
        "refs": [_ref(ref) for ref in story.refs],
    }
    return json.dumps(document, indent=2)


def row_json(trace: RowTrace) -> str:
    document: dict[str, Json] = {
        "trace": "row",
        "od_row": _row(trace.row),
        "intents": [_intent(story.intent) for story in trace.stories],
        "securitylog": _audit(trace.audit),
    }
    return json.dumps(document, indent=2)
