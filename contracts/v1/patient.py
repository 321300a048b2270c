"""patient.create and patient.update, version 1: Open Dental's Patients POST and PUT."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall, Payload
from contracts.envelope import Intent
from contracts.fields import (
    DefinitionName,
    EmailAddress,
    Key,
    KeyOrZero,
    LanguageCode,
    Name,
    OdDate,
    Phone,
    Ssn,
    StateCode,
    Text15,
    Text100,
    VendorRef,
    ZipCode,
)
from contracts.rules import AtLeastOneOf, ExactlyOneOf, FieldRule
from contracts.v1 import enums
from contracts.v1.subjects import NamesPatient


class PatientFields(Payload):
    """The patient fields both contracts share, all optional here."""

    LName: Name | None = Field(default=None, description="Last name; never blank.")
    FName: Name | None = Field(default=None, description="First name; never blank.")
    MiddleI: Text100 | None = None
    Preferred: Text100 | None = Field(default=None, description="Preferred name.")
    Gender: enums.Gender | None = Field(
        default=None,
        description='"Other" exists in the database enum; Patients POST acceptance of it is '
        "unconfirmed.",
    )
    PatStatus: enums.PatStatus | None = None
    Position: enums.Position | None = Field(default=None, description="Marital status.")
    Birthdate: OdDate | None = None
    SSN: Ssn | None = Field(default=None, description="US: 9 digits, no dashes.")
    Address: Text100 | None = None
    Address2: Text100 | None = None
    City: Text100 | None = None
    State: StateCode | None = None
    Zip: ZipCode | None = None
    HmPhone: Phone | None = None
    WkPhone: Phone | None = None
    WirelessPhone: Phone | None = None
    Email: EmailAddress | None = None
    ChartNumber: Text15 | None = None
    Language: LanguageCode | None = Field(default=None, description="ISO 639-2, e.g. eng.")
    PreferConfirmMethod: enums.ContactMethod | None = None
    PreferContactMethod: enums.ContactMethod | None = None
    PreferRecallMethod: enums.ContactMethod | None = None
    TxtMsgOk: enums.YesNoUnknown | None = None
    PriProv: KeyOrZero | None = Field(default=None, description="Primary provider (ProvNum).")
    SecProv: KeyOrZero | None = Field(default=None, description="Secondary provider (ProvNum).")
    ClinicNum: KeyOrZero | None = None
    BillingType: DefinitionName | None = Field(
        default=None, description="A billing type definition's name (definition Category 4)."
    )
    DateFirstVisit: OdDate | None = None
    Guarantor: Key | None = Field(
        default=None, description="The PatNum of the family's guarantor; default the patient."
    )


_UPDATABLE = tuple(name for name in PatientFields.model_fields)


class PatientCreate(PatientFields):
    """A new patient. `PatientRef`, if given, is registered for the new PatNum so later intents
    can name the patient by it."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/patients", table="patient")

    LName: Name = Field(description="Last name; never blank.")
    FName: Name = Field(description="First name; never blank.")
    PatientRef: VendorRef | None = Field(
        default=None, description="The vendor's own reference to register for the new patient."
    )

    def new_ref(self) -> str | None:
        return self.PatientRef


class PatientUpdate(NamesPatient, PatientFields):
    """Changes to an existing patient: only the fields sent change (Open Dental's PUT is sparse).
    At least one field besides the patient's key or reference."""

    od_call: ClassVar[OdCall] = OdCall(method="PUT", path="/patients/{PatNum}", table="patient")
    rules: ClassVar[tuple[FieldRule, ...]] = (
        ExactlyOneOf(("PatNum", "PatientRef")),
        AtLeastOneOf(_UPDATABLE),
    )


class PatientCreateIntent(Intent):
    """Create a patient in the office's Open Dental."""

    contract: Literal["patient.create"]
    version: Literal[1]
    payload: PatientCreate


class PatientUpdateIntent(Intent):
    """Change an existing patient in the office's Open Dental."""

    contract: Literal["patient.update"]
    version: Literal[1]
    payload: PatientUpdate
