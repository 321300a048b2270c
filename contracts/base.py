"""Base classes of every contract model: strict, closed, immutable; payloads that know their
Open Dental call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.config import JsonDict

from contracts.rules import FieldRule

HUB_ONLY_FIELDS = frozenset({"PatientRef", "AppointmentRef",
                             "PaymentRef"})
"""Fields the hub consumes itself and never sends to Open Dental."""

OdValue = str | int | float


class ContractModel(BaseModel):
    """No unknown fields, no coercion ("12" is not an int, 12 is not a string), no mutation."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


@dataclass(frozen=True, kw_only=True)
class OdCall:
    """The Open Dental API call a payload becomes, e.g. PUT ``/appointments/{AptNum}/Confirm``.

    ``table`` is the Open Dental table whose row the call creates or changes. Fields named in
    braces in ``path`` travel in the URL, not in the body.
    """

    method: Literal["POST", "PUT"]
    path: str
    table: str

    def path_fields(self) -> frozenset[str]:
        return frozenset(re.findall(r"\{(\w+)\}", self.path))


@dataclass(frozen=True, kw_only=True)
class Subject:
    """The existing row an intent names: by its Open Dental key or by the vendor's reference.

    Exactly one of ``num`` and ``ref`` is set; the hub resolves ``ref`` to a key it registered.
    """

    table: Literal["patient", "appointment", "payment"]
    key_field: Literal["PatNum", "AptNum", "PayNum"]
    num: int | None
    ref: str | None


def _rules_json_schema(schema: JsonDict, model: type) -> None:
    rules: tuple[FieldRule, ...] = getattr(model, "rules", ())
    if rules:
        schema["allOf"] = [rule.json_schema() for rule in rules]  # type: ignore[misc]


class Payload(ContractModel):
    """The contract-specific object of an intent: Open Dental's field names and formats."""

    model_config = ConfigDict(json_schema_extra=_rules_json_schema)

    od_call: ClassVar[OdCall]
    rules: ClassVar[tuple[FieldRule, ...]] = ()

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        present = frozenset(self.model_fields_set)
        for rule in self.rules:
            error = rule.check(present)
            if error is not None:
                raise error
        return self

    def od_fields(self) -> dict[str, OdValue]:
        """The body to send to Open Dental: the fields the vendor set, less hub-only ones and
        those that travel in the URL. When the vendor named the patient by ``PatientRef``, the
        hub adds the resolved ``PatNum`` itself."""
        hidden = HUB_ONLY_FIELDS | self.od_call.path_fields()
        fields: dict[str, OdValue] = self.model_dump(
            mode="json", exclude_unset=True, exclude=set(hidden)
        )
        return fields

    def subject(self) -> Subject | None:
        """The existing row this payload acts on or for; None when it names none."""
        return None

    def new_ref(self) -> str | None:
        """The vendor's reference to register for the row this payload creates, if any."""
        return None
