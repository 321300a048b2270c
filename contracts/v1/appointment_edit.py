"""appointment.update and appointment.note, version 1: Open Dental's Appointments PUT (a
reschedule, sparse) and PUT Note (an append) (opendental-api.md §4.2)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import AppointmentPattern, Key, OdDateTime, Text4000
from contracts.rules import AtLeastOneOf, FieldRule
from contracts.v1.subjects import NamesAppointment


class AppointmentUpdate(NamesAppointment):
    """Reschedule an appointment: only the fields given are sent, and Open Dental changes only
    those (its PUT is sparse). At least one is required."""

    od_call: ClassVar[OdCall] = OdCall(
        method="PUT", path="/appointments/{AptNum}", table="appointment"
    )
    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesAppointment.rules,
        AtLeastOneOf(("AptDateTime", "Op", "Pattern", "ProvNum")),
    )

    AptDateTime: OdDateTime | None = Field(
        default=None, description="The new start, in the office's local time."
    )
    Op: Key | None = Field(default=None, description="The new operatory (OperatoryNum).")
    Pattern: AppointmentPattern | None = Field(
        default=None, description="The new length: one X (provider time) or / per 5 minutes."
    )
    ProvNum: Key | None = Field(default=None, description="The new provider.")


class AppointmentNote(NamesAppointment):
    """Append a line to an appointment's Note. Open Dental appends, so the hub never sends one
    twice: a note whose reply was lost is looked up first (docs/architecture.md)."""

    od_call: ClassVar[OdCall] = OdCall(
        method="PUT", path="/appointments/{AptNum}/Note", table="appointment"
    )

    Note: Text4000 = Field(
        min_length=1, description="The text to append, as the office should read it."
    )


class AppointmentUpdateIntent(Intent):
    """Reschedule an appointment (date and time, operatory, length, provider)."""

    contract: Literal["appointment.update"]
    version: Literal[1]
    payload: AppointmentUpdate


class AppointmentNoteIntent(Intent):
    """Append a line to an appointment's note."""

    contract: Literal["appointment.note"]
    version: Literal[1]
    payload: AppointmentNote
