"""What the pipeline concludes about one delivery, and what it decides for the broker.

``About`` is what is known of the intent so far (it grows step by step); a ``Verdict`` is the
steps' conclusion, which settlement records; a ``Decision`` is what the lane does with the
message afterwards (acking.py maps it to one broker action).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts import FieldError, OdRow, OutcomeReason
from hub.ledger import NewRef


class Outcome(StrEnum):
    APPLIED = "applied"  # Open Dental has it; the outcome is published
    DUPLICATE = "duplicate"  # decided before: the first outcome is repeated
    REJECTED = "rejected"  # never to be applied: dead-lettered with its reason
    DEAD = "dead"  # given up on (or in doubt): dead-lettered with its reason
    RETRY_LATER = "retry_later"  # the lane holds the message and runs it again after a delay
    LANE_PAUSED = "lane_paused"  # 401: the lane holds the message and pauses, then tries again
    REDELIVER = "redeliver"  # another writer holds the intent's attempt: hand the message back
    # The writer failed on this message unexpectedly (a bug): hand it back; the queue's delivery
    # limit dead-letters a message that keeps failing, without stopping the other offices.
    CRASHED = "crashed"


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


@dataclass(frozen=True, kw_only=True)
class Decision:
    about: About
    outcome: Outcome
    reason: OutcomeReason | None = None
    delay_s: float = 0.0


class Early(Exception):
    """A step decided the intent's fate before the end of the pipeline."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.outcome.value)
        self.verdict = verdict
