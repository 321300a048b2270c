"""The typed intent builders: the contract's envelope around a payload model."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.publisher import intents
from contracts import ContractViolation, parse_intent
from contracts.v1.patient import PatientCreate, PatientCreateIntent

PAYLOAD = PatientCreate(LName="Quillonby", FName="Ada")


def test_a_builder_makes_the_contracts_intent_that_round_trips() -> None:
    # Given a payload and an envelope with an offset time and a correlation id
    when = datetime(2025, 2, 3, 9, 15, tzinfo=timezone(timedelta(hours=-8)))

    # When the intent is built
    intent = intents.patient_create(
        PAYLOAD,
        office_id="office-1",
        idempotency_key="k-1",
        occurred_at=when,
        correlation_id="c-1",
    )

    # Then it is the contract's model, and its JSON reads back to an equal intent
    assert isinstance(intent, PatientCreateIntent)
    assert (intent.contract, intent.version, intent.occurred_at) == (
        "patient.create",
        1,
        "2025-02-03T09:15:00-08:00",
    )
    assert parse_intent(intent.to_json()) == intent


def test_without_a_correlation_id_none_is_sent() -> None:
    # Given an intent built without a correlation id
    intent = intents.patient_create(PAYLOAD, office_id="office-1", idempotency_key="k-1")

    # When it is serialised, Then the field is absent, not null
    assert "correlation_id" not in intent.to_json()


def test_a_bad_envelope_raises_the_contracts_errors_without_values() -> None:
    # Given an office id with capitals, an empty key and a time without an offset
    # When the intent is built, Then each field is named with its rule, and no value is shown
    with pytest.raises(ContractViolation) as refused:
        intents.patient_create(
            PAYLOAD,
            office_id="Office-Quillonby",
            idempotency_key="",
            occurred_at=datetime(2025, 2, 3, 9, 15),
        )
    assert {(e.path, e.rule) for e in refused.value.errors} == {
        ("office_id", "pattern"),
        ("idempotency_key", "min_length"),
        ("occurred_at", "datetime_format"),
    }
    assert "Quillonby" not in str(refused.value)
