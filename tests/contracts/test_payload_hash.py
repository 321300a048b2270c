"""payload_hash: the idempotency fingerprint (same key + same hash = duplicate)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from contracts import parse_intent


def _message(**changes: Any) -> dict[str, Any]:
    message = {
        "contract": "commlog.create",
        "version": 1,
        "idempotency_key": "acme-0001",
        "office_id": "office-1",
        "occurred_at": "2025-03-01T09:30:00Z",
        "payload": {"PatNum": 7, "Note": "Called about the bill.", "Mode_": "Phone"},
    }
    message.update(changes)
    return message


def _hash(message: dict[str, Any]) -> str:
    return parse_intent(json.dumps(message)).payload_hash()


def test_hash_is_sha256_of_the_canonical_json() -> None:
    # Given an intent
    message = _message()
    # When hashed
    digest = _hash(message)
    # Then it is the SHA-256 of sorted, compact, UTF-8 JSON of contract, version, office, payload
    canonical = (
        '{"contract":"commlog.create","office_id":"office-1","payload":'
        '{"Mode_":"Phone","Note":"Called about the bill.","PatNum":7},"version":1}'
    )
    assert digest == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_hash_is_stable_under_key_order() -> None:
    # Given the same intent with its keys in reverse order
    message = _message()
    reordered = dict(reversed(list(message.items())))
    reordered["payload"] = dict(reversed(list(message["payload"].items())))
    # When both are hashed
    # Then the hashes are equal
    assert _hash(reordered) == _hash(message)


def test_hash_ignores_when_it_was_sent_and_its_correlation_id() -> None:
    # Given the same intent sent again later with another correlation id
    later = _message(occurred_at="2025-03-02T10:00:00+01:00", correlation_id="retry-2")
    # When both are hashed
    # Then it still counts as the same intent
    assert _hash(later) == _hash(_message())


def test_hash_changes_with_the_payload_office_or_contract() -> None:
    # Given intents that differ in one payload value, the office, or a field left out
    base = _hash(_message())
    changed_note = _message()
    changed_note["payload"] = {**changed_note["payload"], "Note": "Called about the bill!"}
    fewer_fields = _message()
    fewer_fields["payload"] = {"PatNum": 7, "Note": "Called about the bill."}
    # When hashed
    hashes = {_hash(changed_note), _hash(_message(office_id="office-2")), _hash(fewer_fields)}
    # Then every one differs from the original and from each other
    assert base not in hashes
    assert len(hashes) == 3


def test_hash_treats_an_integer_amount_like_the_same_float() -> None:
    # Given the same amount written 40 and 40.0
    whole = _message(contract="payment.create", payload={"PatNum": 7, "PayAmt": 40})
    decimal = _message(contract="payment.create", payload={"PatNum": 7, "PayAmt": 40.0})
    # When hashed
    # Then they are the same intent
    assert _hash(whole) == _hash(decimal)
