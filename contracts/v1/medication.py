"""medication.create, version 1: Open Dental's MedicationPats POST (opendental-api.md §4.6)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import DefinitionName, Key, KeyOrZero, OdDate, Text4000
from contracts.rules import ExactlyOneOf, FieldRule
from contracts.v1.subjects import NamesPatient


class MedicationCreate(NamesPatient):
    """A medication the patient takes, on the chart's medication list."""

    od_call: ClassVar[OdCall] = OdCall(
        method="POST", path="/medicationpats", table="medicationpat"
    )
    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesPatient.rules,
        ExactlyOneOf(("MedicationNum", "medName")),
    )

    MedicationNum: Key | None = Field(
        default=None, description="The office's medication (medication table)."
    )
    medName: DefinitionName | None = Field(
        default=None,
        description="The medication by name, matched to the office's; Open Dental adds it as "
        "a generic when the office has none by that name.",
    )
    PatNote: Text4000 | None = Field(default=None, description="e.g. the dose and how often.")
    DateStart: OdDate | None = None
    DateStop: OdDate | None = None
    ProvNum: KeyOrZero | None = Field(default=None, description="The prescribing provider.")


class MedicationCreateIntent(Intent):
    """Add a medication to a patient in the office's Open Dental."""

    contract: Literal["medication.create"]
    version: Literal[1]
    payload: MedicationCreate
