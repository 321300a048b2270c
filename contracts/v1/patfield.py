"""patfield.set, version 1: a patient's custom field set to a value, through Open Dental's
PatFields POST (the patient has no row for the field yet) or PUT (it has one)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import OdCall
from contracts.envelope import Intent
from contracts.fields import DefinitionName, PatFieldValue
from contracts.v1.subjects import NamesPatient


class PatFieldSet(NamesPatient):
    """One custom field of a patient, e.g. "Referral Source": made if the patient has none,
    changed in place if it has; the same value set twice leaves the row as once."""

    # The hub reads the patient's fields first and sends POST or PUT (hub/opendental/client.py).
    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/patfields", table="patfield")

    FieldName: DefinitionName = Field(
        description="A field the office defined (patfielddef), spelled exactly: Open Dental "
        "matches it case-sensitively and refuses a hidden one."
    )
    FieldValue: PatFieldValue = Field(
        description="As the field's type takes it: text; a pick list item's name; a date as "
        'yyyy-MM-dd; "1" for a checkbox; an amount for currency. Open Dental checks the type.'
    )


class PatFieldSetIntent(Intent):
    """Set a patient's custom field in the office's Open Dental."""

    contract: Literal["patfield.set"]
    version: Literal[1]
    payload: PatFieldSet
