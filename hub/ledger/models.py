"""What goes into the ledger and what comes out: frozen dataclasses and ``StrEnum`` statuses.

Every datetime crossing this boundary is timezone-aware; the ledger stores UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias

import hub.ledger.constants as c
from contracts import OutcomeStatus

_HEX_SHA256 = re.compile(f"[0-9a-f]{{{c.PAYLOAD_HASH_HEX_CHARS}}}")


class IntentStatus(StrEnum):
    """An intent row's life: received, attempting, then one of ``OutcomeStatus`` (the same values:
    the writer's decisions, the metrics and the outcome event use that one vocabulary)."""

    RECEIVED = "received"  # claimed; no API call is in flight
    ATTEMPTING = "attempting"  # an API call may be in flight or may have happened unrecorded
    APPLIED = "applied"
    REJECTED = "rejected"
    DEAD = "dead"


TERMINAL_STATUSES = frozenset(IntentStatus(status.value) for status in OutcomeStatus)


class RefKind(StrEnum):
    """What a vendor's own reference names in Open Dental."""

    PATIENT = "patient"  # → PatNum
    APPOINTMENT = "appointment"  # → AptNum
    PAYMENT = "payment"  # → PayNum


def _check_length(name: str, value: str | None, max_chars: int) -> None:
    if value is not None and not 0 < len(value) <= max_chars:
        raise ValueError(f"{name} must be 1 to {max_chars} characters")


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, kw_only=True)
class IntentClaim:
    """One delivery of an intent message, as the writer parsed and validated it."""

    vendor: str  # the broker user that published it
    idempotency_key: str
    payload_hash: str  # hex SHA-256 of the canonical JSON payload
    contract: str  # e.g. "patient.create"
    contract_version: int  # the contract's major version
    office_id: str
    message_id: str | None
    correlation_id: str | None
    received_at: datetime
    # An operator's replay (``hub dlq replay``): a rejected or dead intent with the same payload
    # is reopened for a fresh run of attempts instead of being answered as a duplicate.
    replayed: bool = False
    # A new key goes straight to ``attempting`` (attempt 1) in the claim's own statement, saving
    # begin_attempt's round trip: for an intent with nothing to look up before its request.
    begin_attempt: bool = False
    writer_id: str | None = None  # the writer process that begins that first attempt

    def __post_init__(self) -> None:
        _check_length("vendor", self.vendor, c.MAX_VENDOR_CHARS)
        _check_length("idempotency_key", self.idempotency_key, c.MAX_IDEMPOTENCY_KEY_CHARS)
        _check_length("office_id", self.office_id, c.MAX_OFFICE_ID_CHARS)
        _check_length("contract", self.contract, c.MAX_CONTRACT_CHARS)
        _check_length("message_id", self.message_id, c.MAX_MESSAGE_ID_CHARS)
        _check_length("correlation_id", self.correlation_id, c.MAX_MESSAGE_ID_CHARS)
        if not _HEX_SHA256.fullmatch(self.payload_hash):
            raise ValueError("payload_hash must be a lowercase hex SHA-256")
        if self.contract_version < 0:
            raise ValueError("contract_version must not be negative")
        _check_aware("received_at", self.received_at)


@dataclass(frozen=True, kw_only=True)
class Fresh:
    """A new intent: its row was inserted just now, in status ``received``, or ``attempting``
    with its first attempt begun when the claim asked for it."""

    intent_id: int
    attempt: int | None = None  # 1 when the claim began the first attempt


@dataclass(frozen=True, kw_only=True)
class Resumed:
    """An earlier delivery claimed it and stopped before any API call: safe to go on."""

    intent_id: int
    attempts: int


@dataclass(frozen=True, kw_only=True)
class InDoubt:
    """An earlier attempt may have reached Open Dental without its result being recorded:
    reconcile (read-only SQL) before sending anything, from ``attempt_started_at`` on."""

    intent_id: int
    attempts: int
    attempt_started_at: datetime
    attempt_writer: str | None = None  # the writer process that began it (None: unknown)


@dataclass(frozen=True, kw_only=True)
class Finished:
    """An exact duplicate of a finished intent: repeat ``outcome_json`` verbatim, call nothing."""

    intent_id: int
    status: OutcomeStatus
    outcome_json: str | None


@dataclass(frozen=True, kw_only=True)
class Conflict:
    """The key is taken by an intent with another payload hash (``idempotency_conflict``)."""

    intent_id: int


ClaimResult: TypeAlias = Fresh | Resumed | InDoubt | Finished | Conflict


class Charge(StrEnum):
    """What a released attempt costs the intent's retry budget."""

    COUNTED = "counted"  # it reached Open Dental and failed there: one of max_attempts, clocked
    CLOCKED = "clocked"  # Open Dental could not be reached or throttled it: free, but clocked
    FREE = "free"  # not the intent's doing (a 401, a stop before sending): costs nothing


@dataclass(frozen=True, kw_only=True)
class RetryBudget:
    """What an intent's retries have used so far; ages by the ledger database's own clock."""

    attempts: int
    free_attempts: int  # released FREE or CLOCKED, or made before an operator's replay
    retrying_s: float | None  # since the current run of retries began; None: not retrying
    attempt_age_s: float | None  # since the latest attempt began; None: never attempted

    @property
    def counted_attempts(self) -> int:
        return self.attempts - self.free_attempts


@dataclass(frozen=True, kw_only=True)
class ApiCallRecord:
    """One Open Dental API call of one attempt; ``message`` is cut to a sane length."""

    attempt: int
    method: str
    path: str  # no host, no query string
    status: int | None  # None: no response came back
    latency_s: float
    od_primary_key: int | None
    message: str | None  # Open Dental's text or the transport error's class name
    started_at: datetime

    def __post_init__(self) -> None:
        _check_length("method", self.method, c.MAX_METHOD_CHARS)
        _check_aware("started_at", self.started_at)
        if self.attempt < 1:
            raise ValueError("attempt numbers start at 1")


@dataclass(frozen=True, kw_only=True)
class NewRef:
    """A vendor reference the finished intent created, mapped to the Open Dental row."""

    kind: RefKind
    ref: str
    od_primary_key: int

    def __post_init__(self) -> None:
        _check_length("ref", self.ref, c.MAX_REF_CHARS)


@dataclass(frozen=True, kw_only=True)
class Finish:
    """The terminal state of an intent; ``refs`` only for ``applied``. ``calls`` are API calls
    not recorded yet: they are recorded with the finish, in the same commit, whether or not the
    finish itself takes (another delivery may have finished the intent first)."""

    status: OutcomeStatus
    od_table: str | None = None
    od_primary_key: int | None = None
    reason: str | None = None  # a stable code, e.g. "od_rejected", "retries_exhausted"
    last_error: str | None = None  # no patient data: the writer guarantees that
    outcome_json: str | None = None  # the outcome event, repeated verbatim for duplicates
    refs: tuple[NewRef, ...] = ()
    calls: tuple[ApiCallRecord, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in set(OutcomeStatus):
            raise ValueError("finish needs a terminal status")
        if self.refs and self.status != OutcomeStatus.APPLIED:
            raise ValueError("only an applied intent creates vendor refs")
        _check_length("od_table", self.od_table, c.MAX_OD_TABLE_CHARS)
        _check_length("reason", self.reason, c.MAX_REASON_CHARS)


@dataclass(frozen=True, kw_only=True)
class IntentRow:
    """One intent as the ledger holds it."""

    id: int
    vendor: str
    idempotency_key: str
    payload_hash: str
    contract: str
    contract_version: int
    office_id: str
    status: IntentStatus
    attempts: int
    deliveries: int  # how many times the broker delivered (claimed) this key
    received_at: datetime
    updated_at: datetime
    attempt_started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime
    message_id: str | None
    correlation_id: str | None
    od_table: str | None
    od_primary_key: int | None
    reason: str | None
    last_error: str | None
    outcome_json: str | None


@dataclass(frozen=True, kw_only=True)
class ApiCallRow:
    id: int
    attempt: int
    method: str
    path: str
    status: int | None
    latency_ms: int
    od_primary_key: int | None
    message: str | None
    started_at: datetime


@dataclass(frozen=True, kw_only=True)
class RefRow:
    vendor: str
    office_id: str
    kind: RefKind
    ref: str
    od_primary_key: int
    intent_id: int  # may outlive its intent: refs are kept when expired intents are purged
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class IntentStory:
    """Everything the ledger knows about one intent, for ``hub trace``."""

    intent: IntentRow
    api_calls: tuple[ApiCallRow, ...] = ()  # in the order they were made
    refs: tuple[RefRow, ...] = ()  # the vendor refs it created
