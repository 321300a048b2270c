"""Valid messages of every contract, generated from its committed JSON Schema by
hypothesis-jsonschema, and the schema's own validator to judge messages with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests.contracts.examples import SCHEMAS_DIR

Json = Any
Message = dict[str, Json]


@dataclass(frozen=True, kw_only=True)
class Schema:
    """A contract's committed schema file, and its envelope's and payload's parts."""

    whole: dict[str, Json]
    envelope: dict[str, Json]
    payload: dict[str, Json]


@cache
def schema_of(name: str) -> Schema:
    whole = json.loads((SCHEMAS_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    properties = dict(whole["properties"])
    ref = properties.pop("payload")["$ref"]
    payload = {**whole["$defs"][ref.removeprefix("#/$defs/")], "$defs": whole["$defs"]}
    required = [field for field in whole["required"] if field != "payload"]
    envelope = {**whole, "properties": properties, "required": required}
    del envelope["$defs"]
    return Schema(whole=whole, envelope=envelope, payload=payload)


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """The committed schema's validator, formats checked as in test_examples."""
    return jsonschema.Draft202012Validator(
        schema_of(name).whole, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _field_by_field(schema: dict[str, Json]) -> st.SearchStrategy[Message]:
    """Objects of a schema with no rules between its fields, each field from its own schema."""
    assert schema["additionalProperties"] is False
    assert not {"allOf", "anyOf", "oneOf", "not"} & set(schema), "rules between fields"
    properties = {key: from_schema(sub) for key, sub in schema["properties"].items()}
    return st.fixed_dictionaries(
        {key: s for key, s in properties.items() if key in schema["required"]},
        optional={key: s for key, s in properties.items() if key not in schema["required"]},
    )


def cents() -> st.SearchStrategy[float | int]:
    """Amounts with at most two decimal places, as JSON numbers or integers."""
    return st.integers(1, 100_000_000).map(lambda n: n / 100) | st.integers(1, 1_000_000)


MODEL_ONLY_RULES: dict[str, dict[str, st.SearchStrategy[Json]]] = {
    "payment.create.v1": {"PayAmt": cents()},
}
"""Payload fields with a rule the schema cannot state (README), and values that keep to it."""


@cache
def messages(name: str) -> st.SearchStrategy[Message]:
    """Valid messages of one contract version, generated from its committed schema.

    hypothesis-jsonschema rebuilds an object's strategy, and every regex of its properties, each
    time it draws the object holding it: drawn whole, a patient.update message (its payload's
    30-way ``anyOf``) takes about 2 s. So the payload comes from its own subschema and the
    envelope field by field, each from its subschema in the same file: 15 to 60 ms a message.
    """
    schema = schema_of(name)
    kept = st.fixed_dictionaries(MODEL_ONLY_RULES.get(name, {}))
    payloads = st.tuples(from_schema(schema.payload), kept).map(lambda pk: {**pk[0], **pk[1]})
    return st.tuples(_field_by_field(schema.envelope), payloads).map(
        lambda ep: {**ep[0], "payload": ep[1]}
    )
