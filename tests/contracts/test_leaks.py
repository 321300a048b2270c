"""No value a vendor sends ever appears in an error: every field of every valid example is
replaced in turn by distinctive values of every JSON type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import ContractViolation, parse_intent
from tests.contracts.examples import Example, examples

SENTINELS: list[Any] = [
    "SENTINEL-Jane-Q-Public",
    "1999-02-31",
    " " * 7,
    "Z" * 101,
    987654321,
    -123456789,
    31415.9265,
    True,
    ["SENTINEL-in-a-list"],
    {"SENTINEL-key": "SENTINEL-in-an-object"},
]


def _texts(error: ContractViolation) -> list[str]:
    return [f"{e.path} {e.rule} {e.message}" for e in error.errors] + [str(error)]


def _needles(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, dict):
        return [*value.keys(), *map(str, value.values())]
    return [] if isinstance(value, bool) or value == " " * 7 else [str(value)]


@pytest.mark.parametrize("example", examples("valid-"), ids=lambda e: e.id)
def test_no_field_of_any_contract_leaks_its_value(example: Example) -> None:
    # Given a valid example and every (field, sentinel) replacement, envelope and payload alike
    message = example.load()
    targets = [(message, key) for key in message] + [
        (message["payload"], k) for k in message["payload"]
    ]
    leaks = []
    for container, key in targets:
        original = container[key]
        for sentinel in SENTINELS:
            container[key] = sentinel
            # When the hub parses the altered message
            try:
                parse_intent(json.dumps(message))
            except ContractViolation as error:
                texts = _texts(error)
                leaks += [(key, n) for n in _needles(sentinel) if any(n in t for t in texts)]
        container[key] = original
    # Then no error text ever contains the value that was sent
    assert leaks == []
