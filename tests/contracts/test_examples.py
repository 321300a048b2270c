"""The committed examples are the contract's executable documentation: the models and the JSON
Schemas must agree with every one of them."""

from __future__ import annotations

import json

import jsonschema
import pytest

from contracts import ContractViolation, known_contracts, parse_intent
from tests.contracts.examples import Example, distinctive_leaves, examples, value_at

VALID = examples("valid-")
INVALID = examples("invalid-")


def _validator(example: Example) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        example.schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_every_contract_has_valid_and_several_invalid_examples() -> None:
    # Given the example folders
    folders = {example.schema_name for example in VALID}
    # When counting invalid examples per contract
    invalid_counts = {name: sum(e.schema_name == name for e in INVALID) for name in folders}
    # Then every served contract is covered, each with several invalid examples
    assert folders == {f"{name}.v{version}" for name, version in known_contracts()}
    assert min(invalid_counts.values()) >= 5


@pytest.mark.parametrize("example", VALID, ids=lambda e: e.id)
def test_valid_example_parses_and_matches_its_schema(example: Example) -> None:
    # Given a valid example message
    message = example.load()
    # When the hub parses it
    intent = parse_intent(json.dumps(message))
    # Then it is typed by its contract and the JSON Schema file accepts it too
    assert f"{intent.contract}.v{intent.version}" == example.schema_name
    _validator(example).validate(message)


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.id)
def test_invalid_example_fails_with_exactly_the_expected_errors(example: Example) -> None:
    # Given an invalid example and the (path, rule) pairs it documents
    document = example.load()
    expected = sorted((item["path"], item["rule"]) for item in document["expect"])
    # When the hub parses it
    with pytest.raises(ContractViolation) as caught:
        parse_intent(json.dumps(document["message"]))
    # Then exactly those rules are reported
    assert sorted((error.path, error.rule) for error in caught.value.errors) == expected


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.id)
def test_invalid_example_fails_its_json_schema(example: Example) -> None:
    # Given an invalid example
    message = example.load()["message"]
    # When the published JSON Schema judges it
    valid = _validator(example).is_valid(message)
    # Then it refuses it too: the schema is as strict as the models
    assert not valid


@pytest.mark.parametrize("example", INVALID, ids=lambda e: e.id)
def test_error_messages_never_contain_the_offending_values(example: Example) -> None:
    # Given an invalid example and the values at each path it breaks (contract names excepted:
    # unknown_contract lists the known ones on purpose, and they are no vendor data)
    document = example.load()
    contracts = {name for name, _ in known_contracts()}
    offending = [
        leaf
        for item in document["expect"]
        for leaf in distinctive_leaves(value_at(document["message"], item["path"]))
        if leaf not in contracts
    ]
    # When the hub refuses it
    with pytest.raises(ContractViolation) as caught:
        parse_intent(json.dumps(document["message"]))
    # Then no message, rule or exception text repeats any of those values
    texts = [f"{e.path} {e.rule} {e.message}" for e in caught.value.errors]
    texts.append(str(caught.value))
    assert [leaf for leaf in offending if any(leaf in text for text in texts)] == []
