"""appointment.confirm, version 2: Open Dental's PUT Confirm as its current API takes it.

Version 1 pins ``confirmVal`` to the five names Open Dental documents. Version 2 takes
``confirmVal`` as the confirmation status definition's name (Category 2, ``ItemName``), the way
Open Dental resolves it, or ``defNum``: exactly one. A name Open Dental does not know comes back
as its own 400, ``od_rejected``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import DefinitionName, Key
from contracts.rules import ExactlyOneOf, FieldRule
from contracts.v1.subjects import NamesAppointment


class AppointmentConfirmV2(NamesAppointment):
    """Set an appointment's confirmation status, by the definition's name (`confirmVal`) or by
    the definition itself (`defNum`): exactly one of the two."""

    od_call: ClassVar[OdCall] = OdCall(
        method="PUT", path="/appointments/{AptNum}/Confirm", table="appointment"
    )
    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesAppointment.rules,
        ExactlyOneOf(("confirmVal", "defNum")),
    )

    confirmVal: DefinitionName | None = Field(
        default=None,
        description="A confirmation status definition's name (Category 2 ItemName), e.g. "
        '"Confirmed"; Open Dental resolves it.',
    )
    defNum: Key | None = Field(
        default=None, description="A confirmation status definition (DefNum, Category 2)."
    )


class AppointmentConfirmIntentV2(Intent):
    """Set the confirmation status of an appointment (version 2)."""

    contract: Literal["appointment.confirm"]
    version: Literal[2]
    payload: AppointmentConfirmV2
