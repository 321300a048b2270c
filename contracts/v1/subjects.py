"""How a payload names an existing patient or appointment: Open Dental's key or the vendor's own
reference, exactly one of the two."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from contracts.base import Payload, Subject
from contracts.fields import Key, VendorRef
from contracts.rules import ExactlyOneOf, FieldRule


class NamesPatient(Payload):
    """A payload about one existing patient."""

    rules: ClassVar[tuple[FieldRule, ...]] = (ExactlyOneOf(("PatNum", "PatientRef")),)

    PatNum: Key | None = Field(default=None, description="The patient's Open Dental key.")
    PatientRef: VendorRef | None = Field(
        default=None,
        description="The vendor's own reference for the patient, registered by an earlier "
        "patient.create; the hub resolves it to a PatNum.",
    )

    def subject(self) -> Subject:
        return Subject(table="patient", key_field="PatNum", num=self.PatNum, ref=self.PatientRef)


class NamesAppointment(Payload):
    """A payload about one existing appointment."""

    rules: ClassVar[tuple[FieldRule, ...]] = (ExactlyOneOf(("AptNum", "AppointmentRef")),)

    AptNum: Key | None = Field(default=None, description="The appointment's Open Dental key.")
    AppointmentRef: VendorRef | None = Field(
        default=None,
        description="The vendor's own reference for the appointment, registered by an earlier "
        "appointment.create; the hub resolves it to an AptNum.",
    )

    def subject(self) -> Subject:
        return Subject(
            table="appointment", key_field="AptNum", num=self.AptNum, ref=self.AppointmentRef
        )
