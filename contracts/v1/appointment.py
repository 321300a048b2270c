"""appointment.create, appointment.confirm and appointment.break, version 1: Open Dental's
Appointments POST, PUT Confirm and PUT Break."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.deprecation import Deprecation
from contracts.envelope import Intent
from contracts.fields import (
    AppointmentPattern,
    Key,
    KeyOrZero,
    OdBool,
    OdDateTime,
    Text4000,
    VendorRef,
)
from contracts.rules import ExactlyOneOf, FieldRule
from contracts.v1 import enums
from contracts.v1.subjects import NamesAppointment, NamesPatient


class AppointmentCreate(NamesPatient):
    """A new appointment for a patient. `AppointmentRef`, if given, is registered for the new
    AptNum so later intents can name the appointment by it."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/appointments", table="appointment")

    Op: Key = Field(description="The operatory (OperatoryNum).")
    AptDateTime: OdDateTime = Field(description="Start, in the office's local time.")
    AptStatus: enums.AptStatus | None = Field(default=None, description="Default Scheduled.")
    Pattern: AppointmentPattern | None = Field(
        default=None, description="One X (provider time) or / per 5 minutes; default /XX/."
    )
    Confirmed: Key | None = Field(
        default=None, description="A confirmation status definition (DefNum, Category 2)."
    )
    ProvNum: KeyOrZero | None = None
    ProvHyg: KeyOrZero | None = None
    ClinicNum: KeyOrZero | None = None
    Priority: enums.Priority | None = None
    Note: Text4000 | None = None
    IsHygiene: OdBool | None = None
    IsNewPatient: OdBool | None = None
    AppointmentTypeNum: KeyOrZero | None = None
    AppointmentRef: VendorRef | None = Field(
        default=None,
        description="The vendor's own reference to register for the new appointment.",
    )

    def new_ref(self) -> str | None:
        return self.AppointmentRef


class AppointmentConfirm(NamesAppointment):
    """Set an appointment's confirmation status, by name (`confirmVal`) or by definition
    (`defNum`): exactly one of the two."""

    od_call: ClassVar[OdCall] = OdCall(
        method="PUT", path="/appointments/{AptNum}/Confirm", table="appointment"
    )
    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesAppointment.rules,
        ExactlyOneOf(("confirmVal", "defNum")),
    )

    confirmVal: enums.ConfirmVal | None = None
    defNum: Key | None = Field(
        default=None, description="A confirmation status definition (DefNum, Category 2)."
    )


class AppointmentBreak(NamesAppointment):
    """Break a scheduled appointment (there is no cancel or delete in Open Dental's API)."""

    od_call: ClassVar[OdCall] = OdCall(
        method="PUT", path="/appointments/{AptNum}/Break", table="appointment"
    )

    sendToUnscheduledList: OdBool = Field(
        description="Whether the broken appointment goes to the unscheduled list."
    )
    breakType: enums.BreakType | None = Field(
        default=None,
        description="Missed adds procedure D9986, Cancelled D9987 (office preference needed).",
    )


class AppointmentCreateIntent(Intent):
    """Create an appointment in the office's Open Dental."""

    contract: Literal["appointment.create"]
    version: Literal[1]
    payload: AppointmentCreate


class AppointmentConfirmIntent(Intent):
    """Set the confirmation status of an appointment. Deprecated: use version 2."""

    # v2 takes everything v1 does (confirmVal by any definition name, or defNum).
    deprecation: ClassVar[Deprecation | None] = Deprecation(
        sunset=date(2027, 6, 30), successor=2
    )

    contract: Literal["appointment.confirm"]
    version: Literal[1]
    payload: AppointmentConfirm


class AppointmentBreakIntent(Intent):
    """Break an appointment."""

    contract: Literal["appointment.break"]
    version: Literal[1]
    payload: AppointmentBreak
