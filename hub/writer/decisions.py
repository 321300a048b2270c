"""What the writer decides about one delivery, in one vocabulary from the ledger to the vendor.

Every step returns what it produced or a decision. A ``Final`` decision ends the intent with an
``OutcomeStatus`` (applied, rejected, dead: the same values the ledger finishes with, the
metrics count and the outcome event carries); a duplicate repeats an earlier final one. A final
decision is made durable, then its delivery is acked. A ``Hold`` keeps the delivery: the lane
runs it again after ``delay_s`` and says why by its ``HoldCause``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts import FieldError, Intent, OdRow, OutcomeReason, OutcomeStatus
from hub.ledger import ApiCallRecord, NewRef, RefKind

RECONCILED = "reconciled"  # an applied outcome's message when no request of this delivery made it
UNKNOWN_CONTRACT = "unknown"  # an outcome's contract when the body named none the hub serves
NO_VENDOR = ""  # x-hub-vendor of a message without user_id


class HoldCause(StrEnum):
    """Why a lane holds its message: a pause's cause, or a retry's error class."""

    AUTH = "auth"  # 401: Open Dental refuses the office's key (pause)
    OPEN_DENTAL_DOWN = "open_dental_down"  # refused connection, eConnector not running (pause)
    HUB = "hub"  # the hub's own ledger or broker failed (pause)
    # The office's database cannot be read to reconcile an attempt in doubt (pause)
    RECONCILE_UNAVAILABLE = "reconcile_unavailable"
    THROTTLED = "throttled"  # Open Dental asked the hub to slow down
    MAYBE_APPLIED = "maybe_applied"  # an attempt may have landed: reconciled before anything else
    TIMEOUT = "timeout"  # the attempt's own time limit ran out
    TRANSIENT = "transient"  # Open Dental failed the request, and it had no effect
    CRASHED = "crashed"  # the writer failed on the message unexpectedly (a bug)


# Not the intent's doing: the office's lane is paused while they last, and they never exhaust.
PAUSES = frozenset({
    HoldCause.AUTH, HoldCause.OPEN_DENTAL_DOWN, HoldCause.HUB, HoldCause.RECONCILE_UNAVAILABLE,
})


@dataclass(frozen=True, kw_only=True)
class IntentIdentity:
    """Who sent the intent and what it says it is, as far as the steps have read: ids only, for
    outcomes, dead-letter headers and logs."""

    office: str  # the queue's office
    message_id: str | None = None  # the AMQP message_id the outcome answers
    vendor: str | None = None  # None: the message had no user_id
    vendor_known: bool = False  # the registry knows it, so it has an outcome queue
    contract: str | None = None
    version: int | None = None
    idempotency_key: str | None = None
    correlation_id: str | None = None
    intent_id: int | None = None  # the ledger's row, once claimed
    attempt: int | None = None  # the ledger's attempt number, once one began

    def log_fields(self) -> dict[str, object]:
        """The fields a log line carries; the idempotency key is the vendor's own text, so not."""
        fields = {
            "office": self.office,
            "vendor": self.vendor,
            "contract": self.contract,
            "intent_id": self.intent_id,
            "attempt": self.attempt,
        }
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class Final:
    """The intent's end: made durable (dead letter, ledger, outcome event), then acked."""

    intent: IntentIdentity
    status: OutcomeStatus
    duplicate: bool = False  # decided before: the first outcome (``repeat_json``) is repeated
    reason: OutcomeReason | None = None
    message: str | None = None  # Open Dental's or the hub's, for people; never patient data
    errors: tuple[FieldError, ...] = ()
    od: OdRow | None = None  # the row an applied intent produced or changed
    refs: tuple[NewRef, ...] = ()  # vendor refs an applied create registers
    repeat_json: str | None = None  # a duplicate's first outcome, as the ledger stored it
    candidates: tuple[OdRow, ...] = ()  # the rows an ambiguous reconciliation could not tell apart
    calls: tuple[ApiCallRecord, ...] = ()  # API calls for the ledger to record with the finish

    @property
    def dead_lettered(self) -> bool:
        return not self.duplicate and self.status is not OutcomeStatus.APPLIED


@dataclass(frozen=True, kw_only=True)
class Hold:
    """Not decided: the lane keeps the delivery and runs it again after ``delay_s``."""

    intent: IntentIdentity
    cause: HoldCause
    delay_s: float = 0.0
    message: str | None = None
    unrecorded: tuple[ApiCallRecord, ...] = ()  # calls a failed finish did not record

    @property
    def pauses_lane(self) -> bool:
        return self.cause in PAUSES


Decision = Final | Hold


def applied(
    identity: IntentIdentity, intent: Intent, od: OdRow, *, message: str | None = None
) -> Final:
    """An applied decision for the row ``od``, registering the vendor's ref for a create."""
    new_ref = intent.payload.new_ref()
    refs: tuple[NewRef, ...] = ()
    if new_ref is not None:
        kind = RefKind(intent.payload.od_call.table)
        refs = (NewRef(kind=kind, ref=new_ref, od_primary_key=od.primary_key),)
    return Final(
        intent=identity, status=OutcomeStatus.APPLIED, od=od, refs=refs, message=message
    )


def rejected(
    identity: IntentIdentity, reason: OutcomeReason, message: str,
    errors: tuple[FieldError, ...] = (),
) -> Final:
    """Never to be applied: dead-lettered with its reason."""
    return Final(
        intent=identity, status=OutcomeStatus.REJECTED, reason=reason, message=message,
        errors=errors,
    )


def dead(
    identity: IntentIdentity, reason: OutcomeReason, message: str,
    candidates: tuple[OdRow, ...] = (),
) -> Final:
    """Given up on, or the hub cannot tell: dead-lettered with its reason, for a person."""
    return Final(
        intent=identity, status=OutcomeStatus.DEAD, reason=reason, message=message,
        candidates=candidates,
    )
