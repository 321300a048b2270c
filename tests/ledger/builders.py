"""Intents and results for ledger tests; every key is unique unless a test names it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from contracts import OutcomeStatus
from hub.ledger import ApiCallRecord, Finish, IntentClaim, NewRef

HASH_A = hashlib.sha256(b'{"a":1}').hexdigest()
HASH_B = hashlib.sha256(b'{"a":2}').hexdigest()
VENDOR = "vendor-a"
OFFICE = "office-1"


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def claim_of(
    key: str,
    *,
    payload_hash: str = HASH_A,
    vendor: str = VENDOR,
    office_id: str = OFFICE,
    contract: str = "patient.create",
    received_at: datetime | None = None,
) -> IntentClaim:
    return IntentClaim(
        vendor=vendor,
        idempotency_key=key,
        payload_hash=payload_hash,
        contract=contract,
        contract_version=1,
        office_id=office_id,
        message_id=f"msg-{key}",
        correlation_id=None,
        received_at=received_at or datetime.now(UTC),
    )


def applied(
    od_primary_key: int, *, od_table: str = "patient", refs: tuple[NewRef, ...] = ()
) -> Finish:
    return Finish(
        status=OutcomeStatus.APPLIED,
        od_table=od_table,
        od_primary_key=od_primary_key,
        outcome_json=f'{{"status": "applied", "od_primary_key": {od_primary_key}}}',
        refs=refs,
    )


def rejected(reason: str = "od_rejected") -> Finish:
    return Finish(
        status=OutcomeStatus.REJECTED,
        reason=reason,
        last_error="400 from Open Dental",
        outcome_json=f'{{"status": "rejected", "reason": "{reason}"}}',
    )


def api_call(attempt: int, *, status: int | None = 201, path: str = "/patients") -> ApiCallRecord:
    return ApiCallRecord(
        attempt=attempt,
        method="POST",
        path=path,
        status=status,
        latency_s=0.0123,
        od_primary_key=None,
        message=None,
        started_at=datetime.now(UTC),
    )
