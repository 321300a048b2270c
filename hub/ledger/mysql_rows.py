"""Between MariaDB rows and the ledger's dataclasses: column lists, UTC times, row mapping."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.ledger.models import ApiCallRow, IntentRow, IntentStatus, RefKind, RefRow
from hub.ledger.mysql_session import Record

INTENT_COLUMNS = (
    "id, vendor, idempotency_key, payload_hash, contract, contract_version, office_id, status,"
    " attempts, deliveries, received_at, updated_at, attempt_started_at, finished_at, expires_at,"
    " message_id, correlation_id, od_table, od_primary_key, reason, last_error, outcome_json"
)
API_CALL_COLUMNS = (
    "id, attempt, method, path, status, latency_ms, od_primary_key, message, started_at"
)
REF_COLUMNS = "vendor, office_id, kind, ref, od_primary_key, intent_id, created_at"


def to_db(moment: datetime) -> datetime:
    """An aware datetime as the naive UTC value a DATETIME column holds."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def from_db_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else from_db(value)


def cut(text: str | None, max_chars: int) -> str | None:
    return None if text is None else text[:max_chars]


def intent_row(record: Record) -> IntentRow:
    return IntentRow(
        id=record["id"],
        vendor=record["vendor"],
        idempotency_key=record["idempotency_key"],
        payload_hash=record["payload_hash"],
        contract=record["contract"],
        contract_version=record["contract_version"],
        office_id=record["office_id"],
        status=IntentStatus(record["status"]),
        attempts=record["attempts"],
        deliveries=record["deliveries"],
        received_at=from_db(record["received_at"]),
        updated_at=from_db(record["updated_at"]),
        attempt_started_at=from_db_or_none(record["attempt_started_at"]),
        finished_at=from_db_or_none(record["finished_at"]),
        expires_at=from_db(record["expires_at"]),
        message_id=record["message_id"],
        correlation_id=record["correlation_id"],
        od_table=record["od_table"],
        od_primary_key=record["od_primary_key"],
        reason=record["reason"],
        last_error=record["last_error"],
        outcome_json=record["outcome_json"],
    )


def api_call_row(record: Record) -> ApiCallRow:
    return ApiCallRow(
        id=record["id"],
        attempt=record["attempt"],
        method=record["method"],
        path=record["path"],
        status=record["status"],
        latency_ms=record["latency_ms"],
        od_primary_key=record["od_primary_key"],
        message=record["message"],
        started_at=from_db(record["started_at"]),
    )


def ref_row(record: Record) -> RefRow:
    return RefRow(
        vendor=record["vendor"],
        office_id=record["office_id"],
        kind=RefKind(record["kind"]),
        ref=record["ref"],
        od_primary_key=record["od_primary_key"],
        intent_id=record["intent_id"],
        created_at=from_db(record["created_at"]),
    )
