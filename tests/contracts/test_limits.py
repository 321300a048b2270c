"""Bounded inputs: a body above its ceiling, or nested too deep, is refused before it is parsed,
with a rule naming the limit and no value of the body; every valid message fits its ceiling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts import ContractViolation, parse_intent
from contracts.limits import HUB_MAX_BYTES, MAX_DEPTH, max_bytes

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "schemas" / "examples"
WORST_CHARACTER = "\\ud83d\\ude00"  # one character, escaped as a surrogate pair: 12 bytes
MARKER = "Zanzibar"  # a value the refusal must never repeat


def _example(contract: str, name: str) -> dict[str, Any]:
    message: dict[str, Any] = json.loads((EXAMPLES / f"{contract}.v1" / name).read_text())
    return message


def _body(message: dict[str, Any], field: str, characters: int) -> bytes:
    """``message`` with ``payload[field]`` at ``characters`` of the costliest kind."""
    text = json.dumps({**message, "payload": {**message["payload"], field: "@"}})
    return text.replace('"@"', '"' + WORST_CHARACTER * characters + '"').encode()


def _refusal(body: bytes) -> tuple[str, str, str]:
    with pytest.raises(ContractViolation) as refused:
        parse_intent(body)
    (error,) = refused.value.errors
    return error.path, error.rule, error.message


@pytest.mark.parametrize(
    ("contract", "example", "field", "longest"),
    [
        ("commlog.create", "valid-phone-call.json", "Note", 10_000),
        ("appointment.create", "valid-by-patientref.json", "Note", 4_000),
        ("payment.create", "valid-card.json", "PayNote", 4_000),
    ],
)
def test_the_largest_valid_message_fits_its_contract_s_ceiling(
    contract: str, example: str, field: str, longest: int
) -> None:
    # Given a contract's longest text field at its maximum, every character at its costliest
    message = _example(contract, example)
    body = _body(message, field, longest)
    # When it is parsed, Then it is accepted, and it fits its ceiling
    assert parse_intent(body).contract == contract
    assert len(body) <= max_bytes(contract) <= HUB_MAX_BYTES


def test_a_body_above_its_contract_s_ceiling_is_too_large_naming_the_ceiling_only() -> None:
    # Given a patient.create made larger than its contract's ceiling by one of its fields
    message = _example("patient.create", "valid-minimal.json")
    message["payload"]["LName"] = MARKER * (max_bytes("patient.create") // len(MARKER))
    body = json.dumps(message).encode()
    # When it is parsed, Then it is too large for its contract, and the value is not repeated
    path, rule, text = _refusal(body)
    assert (path, rule) == ("$", "too_large")
    assert "patient.create" in text and str(max_bytes("patient.create")) in text
    assert MARKER not in text


def test_a_body_above_the_hub_s_ceiling_is_refused_before_it_is_parsed() -> None:
    # Given a body larger than any contract's ceiling, which is not even JSON
    body = b"{" + MARKER.encode() * (HUB_MAX_BYTES // len(MARKER))
    # When it is parsed, Then it is too large, not invalid JSON: nobody read it as JSON
    path, rule, text = _refusal(body)
    assert (path, rule) == ("$", "too_large")
    assert str(HUB_MAX_BYTES) in text and MARKER not in text


def test_an_unknown_contract_s_name_is_never_repeated_in_a_size_refusal() -> None:
    # Given a body naming a contract the hub does not serve, above the hub's ceiling
    body = json.dumps({"contract": MARKER, "x": "y" * HUB_MAX_BYTES}).encode()
    # Then the refusal names the hub's ceiling, not the vendor's text
    _, rule, text = _refusal(body)
    assert rule == "too_large" and MARKER not in text


def test_a_body_nested_deeper_than_the_limit_is_too_deep() -> None:
    # Given bodies nested one level past the limit, with objects and with arrays
    objects = '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)
    arrays = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    # Then each is refused as too deep
    for body in (objects, arrays):
        assert _refusal(body.encode())[:2] == ("$", "too_deep")
    # And at the limit the body is read as JSON (it is refused for what it says instead)
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert _refusal(at_limit.encode())[1] != "too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    # Given a valid commlog whose note is made of brackets and escaped quotes
    message = _example("commlog.create", "valid-phone-call.json")
    message["payload"]["Note"] = '[{\\"' * 500
    # When it is parsed, Then it is accepted
    assert parse_intent(json.dumps(message).encode()).contract == "commlog.create"
