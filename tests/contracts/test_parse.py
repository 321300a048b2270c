"""parse_intent: dispatch on (contract, version), strictness, and errors that never leak values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import ContractViolation, Intent, parse_intent
from contracts.v1.patient import PatientCreateIntent


def _message(contract: str = "patient.create", /, **payload: Any) -> dict[str, Any]:
    return {
        "contract": contract,
        "version": 1,
        "idempotency_key": "acme-0001",
        "office_id": "office-1",
        "occurred_at": "2025-03-01T09:30:00Z",
        "payload": payload or {"LName": "Testwright", "FName": "Amelia"},
    }


def _errors(body: bytes | str | dict[str, Any]) -> list[tuple[str, str]]:
    text = json.dumps(body) if isinstance(body, dict) else body
    with pytest.raises(ContractViolation) as caught:
        parse_intent(text)
    return sorted((error.path, error.rule) for error in caught.value.errors)


def test_a_valid_message_becomes_its_contracts_typed_intent() -> None:
    # Given a patient.create message as bytes off the broker
    body = json.dumps(_message()).encode()
    # When it is parsed
    intent = parse_intent(body)
    # Then the intent and its payload are typed by the contract
    assert isinstance(intent, PatientCreateIntent)
    assert intent.payload.LName == "Testwright"
    assert intent.routing_key() == "office-1.patient.create"


def test_an_unknown_contract_is_refused_at_path_contract() -> None:
    # Given a message naming a contract the hub does not serve
    message = _message("patient.delete")
    # When it is parsed
    errors = _errors(message)
    # Then the only error is unknown_contract at "contract"
    assert errors == [("contract", "unknown_contract")]


def test_an_unknown_version_is_refused_and_envelope_errors_still_reported() -> None:
    # Given a known contract at version 9 with a bad office id
    message = {**_message(), "version": 9, "office_id": "Office 1"}
    # When it is parsed
    errors = _errors(message)
    # Then both the unknown pair and the envelope's own error are reported
    assert errors == [("contract", "unknown_contract"), ("office_id", "pattern")]


def test_missing_contract_and_version_are_reported_as_missing() -> None:
    # Given a message without contract and version
    message = {k: v for k, v in _message().items() if k not in ("contract", "version")}
    # When it is parsed
    errors = _errors(message)
    # Then each is missing, and no unknown_contract is guessed
    assert errors == [("contract", "missing"), ("version", "missing")]


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b"{", "json_invalid"),
        (b"", "json_invalid"),
        (b"\xff\xfe\x00", "json_invalid"),
        ('{"contract": NaN}', "json_invalid"),
        ("[1, 2]", "type"),
        ('"patient.create"', "type"),
        ("null", "type"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_one_error_at_the_root(
    body: bytes | str, rule: str
) -> None:
    # Given a body that is not a JSON object
    # When it is parsed
    errors = _errors(body)
    # Then one error at "$" says why
    assert errors == [("$", rule)]


def test_null_is_refused_for_optional_fields() -> None:
    # Given optional fields sent as null in the envelope and the payload
    message = {**_message(), "correlation_id": None}
    message["payload"]["Birthdate"] = None
    # When it is parsed
    errors = _errors(message)
    # Then each null is a type error: optional means absent, never null
    assert errors == [("correlation_id", "type"), ("payload.Birthdate", "type")]


@pytest.mark.parametrize("value", [2.0, True, "7"])
def test_integers_are_strict(value: object) -> None:
    # Given PatNum as a float, a boolean or a string
    message = _message("patient.update", PatNum=value, City="Springfield")
    # When it is parsed
    errors = _errors(message)
    # Then it is a type error, never coerced
    assert errors == [("payload.PatNum", "type")]


@pytest.mark.parametrize("amount", [10.005, 0.001, 99.999])
def test_amounts_with_more_than_two_decimals_are_refused(amount: float) -> None:
    # Given a payment with a third decimal place
    message = _message("payment.create", PatNum=1042, PayAmt=amount)
    # When it is parsed
    errors = _errors(message)
    # Then the decimal-places rule refuses it
    assert errors == [("payload.PayAmt", "decimal_places")]


@pytest.mark.parametrize("amount", [0.07, 19.99, 0.01, 1_000_000, 33.3])
def test_amounts_with_two_decimals_or_fewer_are_accepted(amount: float) -> None:
    # Given amounts that binary floats cannot hold exactly
    message = _message("payment.create", PatNum=1042, PayAmt=amount)
    # When parsed
    intent = parse_intent(json.dumps(message))
    # Then they pass, unchanged
    assert intent.payload.od_fields()["PayAmt"] == amount


def test_no_error_message_contains_a_sentinel_value() -> None:
    # Given distinctive bad values in fields broken in every way
    sentinels = {
        "LName": "Z" * 101,
        "FName": "      ",
        "Birthdate": "1999-02-31",
        "State": "Sentinelstate",
        "Zip": "SENTINELZIP",
        "Gender": "Sentinelgender",
        "PriProv": "98765432",
        "Email": "sentinel-at-example.org",
        "ChartNumber": "SENTINEL-CHART-NUMBER",
        "HmPhone": "555-SENTINEL",
        "Guarantor": -987654321,
    }
    message = _message(**sentinels)
    # When the hub refuses the message
    with pytest.raises(ContractViolation) as caught:
        parse_intent(json.dumps(message))
    # Then every field is reported, and no sentinel appears in any message or the exception
    assert {e.path for e in caught.value.errors} == {f"payload.{k}" for k in sentinels}
    texts = [error.message for error in caught.value.errors] + [str(caught.value)]
    leaked = [str(v) for v in sentinels.values() if any(str(v) in t for t in texts)]
    assert leaked == []


def test_an_unknown_key_that_is_not_an_identifier_is_masked_in_the_path() -> None:
    # Given an unknown field whose key is free text (it could be a name)
    message = _message(LName="Testwright", FName="Amelia", **{"Jane Sentinel-Doe": 1})
    # When it is parsed
    with pytest.raises(ContractViolation) as caught:
        parse_intent(json.dumps(message))
    # Then the path masks the key
    assert [(e.path, e.rule) for e in caught.value.errors] == [("payload.*", "extra_forbidden")]
    assert "Sentinel" not in caught.value.errors[0].message


def test_to_json_round_trips() -> None:
    # Given a parsed intent with optional fields set and unset
    intent = parse_intent(json.dumps({**_message(), "correlation_id": "corr-1"}))
    # When it is written back to JSON and parsed again
    again = parse_intent(intent.to_json())
    # Then it is equal, and unset fields stayed unset
    assert again == intent
    assert "MiddleI" not in json.loads(intent.to_json())["payload"]


def test_occurred_at_reads_as_an_aware_datetime() -> None:
    # Given an intent whose occurred_at has an offset
    message = {**_message(), "occurred_at": "2025-03-01T09:30:00.5-05:00"}
    intent: Intent = parse_intent(json.dumps(message))
    # When read as a datetime
    occurred = intent.occurred_at_datetime()
    # Then it keeps its offset
    assert occurred.utcoffset() is not None
    assert occurred.isoformat() == "2025-03-01T09:30:00.500000-05:00"
