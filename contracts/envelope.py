"""The envelope every intent travels in: the hub's own fields, snake_case, around a payload."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from contracts.base import ContractModel, Payload
from contracts.deprecation import Deprecation
from contracts.fields import CorrelationId, IdempotencyKey, OfficeId, Rfc3339DateTime


class Envelope(ContractModel):
    """The hub's fields around every payload."""

    contract: str = Field(description='The contract name, "<resource>.<action>".')
    version: int = Field(ge=1, description="The contract's major version.")
    idempotency_key: IdempotencyKey = Field(
        description="The vendor's key for this intent: re-sending the same intent with the same "
        "key is a duplicate (the first outcome is repeated); the same key with another payload "
        "is refused as idempotency_conflict. 1 to 128 printable ASCII characters."
    )
    office_id: OfficeId = Field(
        description="The office whose Open Dental the intent is for; part of routing keys."
    )
    occurred_at: Rfc3339DateTime = Field(
        description="When the change happened on the vendor's side, RFC 3339 with an offset."
    )
    correlation_id: CorrelationId | None = Field(
        default=None, description="Optional; echoed on the outcome event. At most 128 characters."
    )


class Intent(Envelope):
    """A vendor's request that the hub apply one change to one office's Open Dental."""

    payload: Payload
    # Set on a version being phased out (contracts/README.md, "Versions"); None while current.
    deprecation: ClassVar[Deprecation | None] = None

    def payload_hash(self) -> str:
        """Hex SHA-256 of the canonical JSON of contract, version, office and payload.

        ``occurred_at`` and ``correlation_id`` are left out, so the same intent sent again later
        still counts as a duplicate of the first.
        """
        canonical = {
            "contract": self.contract,
            "version": self.version,
            "office_id": self.office_id,
            "payload": self.payload.model_dump(mode="json", exclude_unset=True),
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_json(self) -> str:
        """The intent as JSON, with only the fields the vendor sent; ``parse_intent`` reads it
        back to an equal intent."""
        return self.model_dump_json(exclude_unset=True)

    def occurred_at_datetime(self) -> datetime:
        """``occurred_at`` as an aware datetime."""
        return datetime.fromisoformat(self.occurred_at)

    def routing_key(self) -> str:
        """The key to publish this intent with on ``hub.intents``: ``<office>.<contract>``."""
        return f"{self.office_id}.{self.contract}"
