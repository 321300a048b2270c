"""problem.create, version 1: Open Dental's Diseases POST (opendental-api.md §4.6); Open Dental
calls a patient's problems diseases."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import DefinitionName, Key, OdDate, Text4000
from contracts.rules import ExactlyOneOf, FieldRule
from contracts.v1 import enums
from contracts.v1.subjects import NamesPatient


class ProblemCreate(NamesPatient):
    """A problem (medical condition) on a patient's chart."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/diseases", table="disease")
    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesPatient.rules,
        ExactlyOneOf(("DiseaseDefNum", "diseaseDefName")),
    )

    DiseaseDefNum: Key | None = Field(
        default=None, description="The office's problem definition (diseasedef)."
    )
    diseaseDefName: DefinitionName | None = Field(
        default=None,
        description="The problem by name, matched to the office's list. Whether Open Dental "
        "adds a name the office lacks is unconfirmed: send a name on the office's list.",
    )
    ProbStatus: enums.ProbStatus | None = Field(default=None, description="Default Active.")
    DateStart: OdDate | None = None
    DateStop: OdDate | None = None
    PatNote: Text4000 | None = None


class ProblemCreateIntent(Intent):
    """Add a problem to a patient in the office's Open Dental."""

    contract: Literal["problem.create"]
    version: Literal[1]
    payload: ProblemCreate
