"""commlog.create, version 2: the commlog type by name.

Version 1 takes ``CommType`` as a DefNum (or ``commType`` as a name). Version 2 has one field,
``CommType``, holding the commlog type definition's name (Category 27 ``ItemName``), which the
hub sends as Open Dental's ``commType``: a vendor never needs an office's DefNums. That changes
``CommType``'s type, a breaking change, hence a new major version.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall, OdValue
from contracts.envelope import Intent
from contracts.fields import CommlogNote, DefinitionName, OdDateTime
from contracts.v1 import enums
from contracts.v1.subjects import NamesPatient


class CommlogCreateV2(NamesPatient):
    """A communication log entry on a patient's chart, its type named by the definition's
    name."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/commlogs", table="commlog")

    Note: CommlogNote
    CommDateTime: OdDateTime | None = Field(
        default=None, description="Office local time; default now."
    )
    CommType: DefinitionName | None = Field(
        default=None,
        description="A commlog type definition's name (Category 27 ItemName); default the "
        "office's first commlog type.",
    )
    Mode_: enums.CommMode | None = Field(
        default=None,
        description="The database enum's names (InPerson, EmailAndText, PhoneAndText); default "
        "Phone.",
    )
    SentOrReceived: enums.SentOrReceived | None = Field(default=None, description="Default Sent.")

    def od_fields(self) -> dict[str, OdValue]:
        # Open Dental takes a type's name as commType; its CommType is the DefNum (v1's meaning).
        fields = super().od_fields()
        if "CommType" in fields:
            fields["commType"] = fields.pop("CommType")
        return fields


class CommlogCreateIntentV2(Intent):
    """Add a commlog entry to a patient in the office's Open Dental (version 2)."""

    contract: Literal["commlog.create"]
    version: Literal[2]
    payload: CommlogCreateV2
