"""The outcome event: the hub's only way back to a vendor, one per intent it decided.

Published on ``hub.outcomes`` with routing key ``<vendor>.<office>.<contract>.<status>``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from contracts.base import ContractModel
from contracts.deprecation import Deprecation
from contracts.errors import FieldError
from contracts.fields import MAX_BIGINT


class OutcomeStatus(StrEnum):
    """Where an intent ended: every intent ends in exactly one of these."""

    APPLIED = "applied"
    REJECTED = "rejected"
    DEAD = "dead"


class OutcomeReason(StrEnum):
    """Why an intent was not (or not surely) applied; a stable code for vendors' code."""

    INVALID = "invalid"
    UNAUTHENTICATED = "unauthenticated"  # no broker-proven user_id: nobody to tell
    UNAUTHORIZED = "unauthorized"
    OFFICE_MISMATCH = "office_mismatch"  # the envelope names another office than the queue's
    UNKNOWN_REFERENCE = "unknown_reference"  # a PatientRef/AppointmentRef the hub never registered
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    OD_REJECTED = "od_rejected"
    RETRIES_EXHAUSTED = "retries_exhausted"
    NEEDS_RECONCILE = "needs_reconcile"
    AMBIGUOUS = "ambiguous"
    # The hub failed on this message again and again (a bug of the hub's, not the vendor's): it is
    # kept in the dead-letter queue so the office goes on behind it, and replayed after a fix.
    WRITER_FAILED = "writer_failed"


class OdRow(ContractModel):
    """A row the intent produced or changed in Open Dental."""

    table: str = Field(description='Open Dental table name, e.g. "patient".')
    primary_key: int = Field(ge=1, le=MAX_BIGINT, description="The row's primary key.")


class OutcomeEvent(ContractModel):
    """What the hub decided for one intent."""

    vendor: str = Field(description="The vendor (broker user) that published the intent.")
    idempotency_key: str = Field(description="The intent's idempotency key.")
    office_id: str
    contract: str
    version: int | None = Field(
        description="The contract's major version; null when the body could not be read."
    )
    status: OutcomeStatus
    reason: OutcomeReason | None = Field(description="Null when applied.")
    errors: list[FieldError] = Field(
        default_factory=list, description="The broken contract rules when reason is invalid."
    )
    od: list[OdRow] = Field(
        default_factory=list, description="Rows produced in Open Dental; empty unless applied."
    )
    message: str | None = Field(
        default=None,
        description="Open Dental's or the hub's message, for people; never holds patient data.",
    )
    decided_at: AwareDatetime = Field(description="When the hub decided, RFC 3339.")
    correlation_id: str | None = Field(
        default=None, description="The intent's correlation_id, if it had one."
    )
    message_id: str | None = Field(
        default=None,
        description="The AMQP message_id of the message this event answers, so even a body that "
        "could not be read is matched to its message; null when the message had none.",
    )
    deprecation: Deprecation | None = Field(
        default=None,
        description="Set when the intent's contract version is deprecated: its sunset date and "
        "the version to move to; null while the version is current.",
    )
    duplicate: bool = Field(
        default=False,
        description="True when this event repeats the first outcome of an intent delivered or "
        "sent again.",
    )

    def routing_key(self) -> str:
        """``<vendor>.<office>.<contract>.<status>`` on ``hub.outcomes``."""
        return f"{self.vendor}.{self.office_id}.{self.contract}.{self.status.value}"

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, body: bytes | str) -> OutcomeEvent:
        """Read an event off the broker (the vendor's side)."""
        return cls.model_validate_json(body)
