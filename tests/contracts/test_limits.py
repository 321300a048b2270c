"""Bounded inputs: a body above its ceiling, or nested too deep, is refused before it is parsed,
with a rule naming the limit and no value of the body; every valid message fits its ceiling."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import ContractViolation, known_contracts, parse_intent
from contracts.fields import RAW_BASE64_MAX_CHARS
from contracts.limits import HUB_MAX_BYTES, MAX_DEPTH, deeper_than, max_bytes

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


def _document_at_its_largest() -> dict[str, Any]:
    message = _example("document.upload", "valid-signed-form.json")
    # Random bytes: base64's "/" as often as a real file has it, each escaped below.
    raw = base64.b64encode(random.Random(7).randbytes(RAW_BASE64_MAX_CHARS // 4 * 3)).decode()
    message["payload"] = {**message["payload"], "rawBase64": raw}
    return message


def test_the_largest_document_fits_its_ceiling_even_with_every_slash_escaped() -> None:
    # Given a document.upload whose file's base64 is as long as Open Dental's body limit allows,
    # each "/" written "\/" (as some encoders do), and its Description at its costliest
    message = _document_at_its_largest()
    body = _body(message, "Description", 255).replace(b"/", b"\\/")
    # When it is parsed, Then it is accepted, and it fits its ceiling, the hub's
    assert parse_intent(body).contract == "document.upload"
    assert len(body) <= max_bytes("document.upload") == HUB_MAX_BYTES


def test_a_document_one_byte_above_its_ceiling_is_too_large_naming_its_contract() -> None:
    # Given a document.upload padded with spaces to one byte above its contract's ceiling
    message = _document_at_its_largest()
    message["payload"]["Description"] = MARKER
    body = json.dumps(message).encode()
    body = body[:-1] + b" " * (max_bytes("document.upload") + 1 - len(body)) + b"}"
    assert len(body) == max_bytes("document.upload") + 1
    # When it is parsed, Then it is too large, naming the ceiling and never a value
    path, rule, text = _refusal(body)
    assert (path, rule) == ("$", "too_large")
    assert str(max_bytes("document.upload")) in text and MARKER not in text


def test_every_contract_but_the_document_upload_keeps_a_small_ceiling() -> None:
    # Given every served contract's ceiling
    ceilings = {name: max_bytes(name) for name, _ in known_contracts()}
    # Then only the document upload's is Open Dental's body limit; every other is far smaller
    assert ceilings.pop("document.upload") > RAW_BASE64_MAX_CHARS
    assert max(ceilings.values()) <= 256 * 1024


_SCALARS = st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\/ ab\n\u00e9')
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=_VALUES, ensure_ascii=st.booleans(), escape_slashes=st.booleans())
def test_the_depth_check_reads_every_body_as_a_json_reader_does(
    value: object, ensure_ascii: bool, escape_slashes: bool
) -> None:
    # Given any JSON value, written with or without escapes of non-ASCII text and of "/"
    body = json.dumps(value, ensure_ascii=ensure_ascii).encode()
    if escape_slashes:
        body = body.replace(b"/", b"\\/")
    depth = _depth(json.loads(body))
    # Then the check finds it deeper than one level less than its depth, and no deeper
    assert not deeper_than(body, depth)
    assert depth == 0 or deeper_than(body, depth - 1)
