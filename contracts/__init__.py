"""The public contract between vendors and the hub: intent messages, outcome events, change
events, and the JSON Schemas and AsyncAPI document generated from them.

    intent = parse_intent(body)          # raises ContractViolation(.errors: list[FieldError])
    intent.payload.od_fields()           # the Open Dental request body
    intent.payload_hash()                # for idempotency: same key + same hash = duplicate
"""

from contracts.base import OdCall, Payload, Subject
from contracts.change import CHANGE_TYPE, ChangeDoor, ChangeEvent, change_event_id
from contracts.deprecation import Deprecation
from contracts.envelope import Intent
from contracts.errors import ContractViolation, FieldError
from contracts.outcome import OdRow, OutcomeEvent, OutcomeReason, OutcomeStatus
from contracts.parse import parse_intent
from contracts.registry import (
    INTENT_MODELS,
    deprecated_versions,
    deprecation_of,
    intent_model,
    known_contracts,
)

__all__ = [
    "CHANGE_TYPE",
    "INTENT_MODELS",
    "ChangeDoor",
    "ChangeEvent",
    "ContractViolation",
    "Deprecation",
    "FieldError",
    "Intent",
    "OdCall",
    "OdRow",
    "OutcomeEvent",
    "OutcomeReason",
    "OutcomeStatus",
    "Payload",
    "Subject",
    "change_event_id",
    "deprecated_versions",
    "deprecation_of",
    "intent_model",
    "known_contracts",
    "parse_intent",
]
