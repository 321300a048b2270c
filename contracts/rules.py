"""Rules between fields of one payload (exactly one of, at most one of, at least one field).

Each rule both checks a payload and states itself in JSON Schema, so the model and the generated
schema cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic_core import PydanticCustomError

JsonSchema = dict[str, object]


class FieldRule(Protocol):
    """A constraint on which fields of a payload are present."""

    def check(self, present: frozenset[str]) -> PydanticCustomError | None:
        """The error to raise when ``present`` (the fields the vendor sent) breaks the rule."""

    def json_schema(self) -> JsonSchema:
        """The same rule as a JSON Schema fragment, to sit in the payload's ``allOf``."""


def _either(fields: tuple[str, ...]) -> str:
    return " or ".join(fields)


@dataclass(frozen=True)
class ExactlyOneOf:
    """Exactly one of ``fields`` is present, e.g. ``PatNum`` or ``PatientRef``."""

    fields: tuple[str, ...]

    def check(self, present: frozenset[str]) -> PydanticCustomError | None:
        if len(present.intersection(self.fields)) == 1:
            return None
        return PydanticCustomError(
            "exactly_one_of", "must have exactly one of {fields}", {"fields": _either(self.fields)}
        )

    def json_schema(self) -> JsonSchema:
        return {"oneOf": [{"required": [field]} for field in self.fields]}


@dataclass(frozen=True)
class AtMostOneOf:
    """At most one of ``fields`` is present."""

    fields: tuple[str, ...]

    def check(self, present: frozenset[str]) -> PydanticCustomError | None:
        if len(present.intersection(self.fields)) <= 1:
            return None
        return PydanticCustomError(
            "at_most_one_of", "must have at most one of {fields}", {"fields": _either(self.fields)}
        )

    def json_schema(self) -> JsonSchema:
        return {"not": {"required": list(self.fields)}}


@dataclass(frozen=True)
class AtLeastOneOf:
    """At least one of ``fields`` is present (an update that changes something)."""

    fields: tuple[str, ...]

    def check(self, present: frozenset[str]) -> PydanticCustomError | None:
        if present.intersection(self.fields):
            return None
        return PydanticCustomError(
            "at_least_one_field", "must have at least one field to change besides its target", {}
        )

    def json_schema(self) -> JsonSchema:
        return {"anyOf": [{"required": [field]} for field in self.fields]}
