"""The outcome event: what vendors read back, validated by its own published schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema

from contracts import FieldError, OdRow, OutcomeEvent, OutcomeReason, OutcomeStatus
from tests.contracts.examples import SCHEMAS_DIR


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / "outcome.v1.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _applied() -> OutcomeEvent:
    return OutcomeEvent(
        vendor="acme",
        idempotency_key="acme-0001",
        office_id="office-1",
        contract="patient.create",
        version=1,
        status=OutcomeStatus.APPLIED,
        reason=None,
        od=[OdRow(table="patient", primary_key=1042)],
        decided_at=datetime(2025, 3, 1, 14, 30, tzinfo=UTC),
        correlation_id="corr-1",
    )


def test_an_applied_outcome_round_trips_and_matches_its_schema() -> None:
    # Given an applied outcome
    event = _applied()
    # When written to JSON and read back by a vendor
    text = event.to_json()
    again = OutcomeEvent.from_json(text)
    # Then it is equal, valid against the published schema, and routed by status
    assert again == event
    _validator().validate(json.loads(text))
    assert event.routing_key() == "acme.office-1.patient.create.applied"


def test_a_rejected_outcome_carries_its_reason_and_field_errors() -> None:
    # Given an outcome rejecting an invalid intent
    error = FieldError("payload.Birthdate", "date_format", "payload.Birthdate must be a date.")
    event = _applied().model_copy(
        update={
            "status": OutcomeStatus.REJECTED,
            "reason": OutcomeReason.INVALID,
            "errors": [error],
            "od": [],
        }
    )
    # When written to JSON
    document = json.loads(event.to_json())
    # Then the reason and errors are there and the schema accepts it
    assert document["reason"] == "invalid"
    assert document["errors"] == [
        {"path": "payload.Birthdate", "rule": "date_format", "message": error.message}
    ]
    _validator().validate(document)


def test_the_schema_refuses_an_unknown_status() -> None:
    # Given an outcome document with a status the contract does not have
    document = json.loads(_applied().to_json())
    document["status"] = "pending"
    # When validated
    # Then the schema refuses it
    assert not _validator().is_valid(document)
