"""allergy.create, version 1: Open Dental's Allergies POST (opendental-api.md §4.6)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import DefinitionName, Key, OdBool, OdDate, Text255
from contracts.rules import ExactlyOneOf, FieldRule
from contracts.v1.subjects import NamesPatient


class AllergyCreate(NamesPatient):
    """An allergy on a patient's chart."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/allergies", table="allergy")
    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesPatient.rules,
        ExactlyOneOf(("AllergyDefNum", "defDescription")),
    )

    AllergyDefNum: Key | None = Field(
        default=None, description="The office's allergy definition (allergydef)."
    )
    defDescription: DefinitionName | None = Field(
        default=None,
        description="The allergy by name, matched to the office's list; Open Dental adds it "
        "to the list when the office has none by that name.",
    )
    Reaction: Text255 | None = None
    StatusIsActive: OdBool | None = Field(default=None, description="Default true.")
    DateAdverseReaction: OdDate | None = None


class AllergyCreateIntent(Intent):
    """Add an allergy to a patient in the office's Open Dental."""

    contract: Literal["allergy.create"]
    version: Literal[1]
    payload: AllergyCreate
