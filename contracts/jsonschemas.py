"""JSON Schemas (draft 2020-12) of each contract version's whole message, of the outcome event and
of the change event, generated from the pydantic models."""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from contracts.change import CHANGE_TYPE, ChangeEvent
from contracts.envelope import Intent
from contracts.outcome import OutcomeEvent
from contracts.registry import contract_key

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "https://od-integration-hub.example/contracts/"
OUTCOME_NAME = "outcome.v1"
CHANGE_NAME = CHANGE_TYPE


def schema_file(name: str) -> str:
    """The path relative to the package, e.g. ``schemas/outcome.v1.schema.json``."""
    return f"schemas/{name}.schema.json"


def intent_schema_name(model: type[Intent]) -> str:
    """``patient.create.v1`` for the patient.create version 1 model."""
    contract, version = contract_key(model)
    return f"{contract}.v{version}"


class _Generator(GenerateJsonSchema):
    """Pydantic's generator without a title on every property (they only repeat the name)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


class _IntentGenerator(_Generator):
    """In an intent, an optional field may be left out but is never null (``parse_intent``
    refuses null), so the schema shows neither null nor a null default."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def _document(
    model: type[BaseModel], generator: type[GenerateJsonSchema], *, name: str, title: str
) -> dict[str, Any]:
    schema = model.model_json_schema(schema_generator=generator)
    schema.update(
        {
            "$schema": DRAFT,
            "$id": ID_BASE + schema_file(name),
            "title": title,
            "description": inspect.cleandoc(model.__doc__ or ""),
        }
    )
    return schema


def intent_schema(model: type[Intent]) -> dict[str, Any]:
    """The whole message of one contract version: the envelope with that contract's payload."""
    contract, version = contract_key(model)
    schema = _document(
        model, _IntentGenerator, name=intent_schema_name(model), title=f"{contract} v{version}"
    )
    schema["description"] += (
        " An intent message: the hub's envelope (snake_case) around the payload, whose fields"
        " carry Open Dental's API names and formats (enums by name, booleans as the strings"
        ' "true"/"false", dates yyyy-MM-dd, date-times yyyy-MM-dd HH:mm:ss in office local'
        " time). Optional fields are left out, never null."
    )
    if model.deprecation is not None:
        schema["deprecated"] = True
        schema["description"] += (
            f" Deprecated: served until {model.deprecation.sunset.isoformat()}; move to"
            f" version {model.deprecation.successor}."
        )
    return schema


def outcome_schema() -> dict[str, Any]:
    """The outcome event the hub publishes on hub.outcomes."""
    return _document(OutcomeEvent, _Generator, name=OUTCOME_NAME, title="outcome v1")


def change_schema() -> dict[str, Any]:
    """The change event the hub publishes on hub.outcomes to vendors that may read a table."""
    return _document(ChangeEvent, _Generator, name=CHANGE_NAME, title="change v1")
