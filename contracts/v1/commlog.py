"""commlog.create, version 1: Open Dental's Commlogs POST."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import CommlogNote, DefinitionName, Key, OdDateTime
from contracts.rules import AtMostOneOf, FieldRule
from contracts.v1 import enums
from contracts.v1.subjects import NamesPatient


class CommlogCreate(NamesPatient):
    """A communication log entry on a patient's chart."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/commlogs", table="commlog")
    rules: ClassVar[tuple[FieldRule, ...]] = (
        *NamesPatient.rules,
        AtMostOneOf(("CommType", "commType")),
    )

    Note: CommlogNote
    CommDateTime: OdDateTime | None = Field(
        default=None, description="Office local time; default now."
    )
    CommType: Key | None = Field(
        default=None, description="A commlog type definition (DefNum, Category 27)."
    )
    commType: DefinitionName | None = Field(
        default=None, description="A commlog type definition's name; not with CommType."
    )
    # The API page spells three modes with spaces ("In Person", "Email and Text", "Phone and
    # Text"); the database enum does not. Which spelling the API accepts is unconfirmed.
    Mode_: enums.CommMode | None = Field(
        default=None,
        description="The database enum's names (InPerson, EmailAndText, PhoneAndText). Open "
        "Dental's API page spells these with spaces; which spelling the API accepts is "
        "unconfirmed. Default Phone.",
    )
    SentOrReceived: enums.SentOrReceived | None = Field(default=None, description="Default Sent.")


class CommlogCreateIntent(Intent):
    """Add a commlog entry to a patient in the office's Open Dental."""

    contract: Literal["commlog.create"]
    version: Literal[1]
    payload: CommlogCreate
