"""What the pipeline concludes about one delivery, and what it decides for the broker.

``About`` is what is known of the intent so far (it grows step by step); a ``Verdict`` is the
steps' conclusion, which settlement records; a ``Decision`` is what the lane does with the
message afterwards (acking.py maps it to one broker action).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts import FieldError, Intent, OdRow, OutcomeReason
from hub.ledger import ApiCallRecord, NewRef, RefKind

RECONCILED = "reconciled"  # an applied outcome's message when no request of this delivery made it


class Outcome(StrEnum):
    APPLIED = "applied"  # Open Dental has it; the outcome is published
    DUPLICATE = "duplicate"  # decided before: the first outcome is repeated
    REJECTED = "rejected"  # never to be applied: dead-lettered with its reason
    DEAD = "dead"  # given up on (or cannot tell): dead-lettered with its reason
    RETRY_LATER = "retry_later"  # the lane holds the message and runs it again after a delay
    # Not the intent's doing (a 401, Open Dental or the hub's own database unreachable): the
    # lane holds the message and probes again after a delay; nothing is dead-lettered for it.
    LANE_PAUSED = "lane_paused"
    # The writer failed on this message unexpectedly (a bug): the lane holds it and runs it again,
    # a few times (crash_limit), then dead-letters it (writer_failed), so the office goes on in
    # order behind it.
    CRASHED = "crashed"


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


FINAL_OUTCOMES = frozenset({Outcome.APPLIED, Outcome.DUPLICATE, Outcome.REJECTED, Outcome.DEAD})
DEAD_LETTERED = frozenset({Outcome.REJECTED, Outcome.DEAD})


@dataclass(frozen=True, kw_only=True)
class About:
    """Who sent the intent and what it says it is: ids only, for outcomes, headers and logs."""

    office: str  # the queue's office
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
class Verdict:
    about: About
    outcome: Outcome
    reason: OutcomeReason | None = None
    message: str | None = None  # Open Dental's or the hub's, for people; never patient data
    errors: tuple[FieldError, ...] = ()
    od: OdRow | None = None  # the row an applied intent produced or changed
    refs: tuple[NewRef, ...] = ()  # vendor refs an applied create registers
    repeat_json: str | None = None  # a duplicate's first outcome, as the ledger stored it
    delay_s: float = 0.0  # for RETRY_LATER and LANE_PAUSED
    cause: HoldCause | None = None  # for RETRY_LATER and LANE_PAUSED
    candidates: tuple[OdRow, ...] = ()  # the rows an ambiguous reconciliation could not tell apart
    sent: bool = False  # a request of this delivery's attempt left for Open Dental
    calls: tuple[ApiCallRecord, ...] = ()  # API calls for the ledger to record with the finish


@dataclass(frozen=True, kw_only=True)
class Decision:
    about: About
    outcome: Outcome
    reason: OutcomeReason | None = None
    delay_s: float = 0.0
    cause: HoldCause | None = None
    sent: bool = False
    unrecorded: tuple[ApiCallRecord, ...] = ()  # calls the failed finish did not record


def applied(about: About, intent: Intent, od: OdRow, *, message: str | None = None) -> Verdict:
    """An applied verdict for the row ``od``, registering the vendor's ref for a create."""
    new_ref = intent.payload.new_ref()
    refs: tuple[NewRef, ...] = ()
    if new_ref is not None:
        kind = RefKind(intent.payload.od_call.table)
        refs = (NewRef(kind=kind, ref=new_ref, od_primary_key=od.primary_key),)
    return Verdict(about=about, outcome=Outcome.APPLIED, od=od, refs=refs, message=message)


class Early(Exception):
    """A step decided the intent's fate before the end of the pipeline."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.outcome.value)
        self.verdict = verdict
