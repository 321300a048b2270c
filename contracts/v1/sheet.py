"""sheet.fill, version 1: a form filled in a patient's chart (opendental-api.md §4.7).

Open Dental fills a sheet in several calls: Sheets POST makes the sheet and every field of its
definition, SheetFields GET lists them, and one SheetFields PUT sets each field's value. The hub
makes those calls itself and records a recovery point after each, so the fill is exactly once in
effect as a whole (hub/writer/sheet_fill.py); the vendor sends one intent.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints
from pydantic.config import JsonDict

from contracts.base import OdCall, OdValue
from contracts.envelope import Intent
from contracts.fields import Key
from contracts.v1.subjects import NamesPatient

# A sheet field's FieldName is varchar(255) and its FieldValue text. The hub takes 40 fields of up
# to 255 characters: a whole intake form, in a body under 256 KiB at worst (contracts/limits.py).
MAX_FIELDS = 40
MAX_VALUE_CHARS = 255

SheetFieldName = Annotated[str, StringConstraints(pattern=r"\S", min_length=1, max_length=255)]
SheetFieldValue = Annotated[str, StringConstraints(max_length=MAX_VALUE_CHARS)]


def _fields_schema(schema: JsonDict) -> None:
    # Every key is a field name and every value a string: said with propertyNames and
    # additionalProperties, which validators and generators read for every key (pydantic's
    # patternProperties would leave a blank key unconstrained).
    names = schema.pop("patternProperties", {})
    if not isinstance(names, dict):
        raise TypeError("pydantic's schema of a dict has its patternProperties as an object")
    (values,) = names.values()
    schema["propertyNames"] = {"minLength": 1, "maxLength": 255, "pattern": r"\S"}
    schema["additionalProperties"] = values


class SheetFill(NamesPatient):
    """A sheet made from one of the office's sheet definitions, its fields set by name."""

    od_call: ClassVar[OdCall] = OdCall(method="POST", path="/sheets", table="sheet")

    SheetDefNum: Key = Field(
        description="The office's sheet definition (Consent, PatientLetter, PatientForm, "
        "MedicalHistory or ExamSheet)."
    )
    fields: dict[SheetFieldName, SheetFieldValue] = Field(
        min_length=1,
        max_length=MAX_FIELDS,
        description="Each field to set, by the sheet's own FieldName, to its FieldValue (a "
        "CheckBox takes \"X\" or \"\"). Only InputField, OutputText and CheckBox fields can be "
        "set; a name the sheet lacks rejects the intent before any field is set.",
        json_schema_extra=_fields_schema,
    )

    def od_fields(self) -> dict[str, OdValue]:
        # The body of Sheets POST: the field values travel one PUT each, never in it.
        body = super().od_fields()
        body.pop("fields", None)
        return body


class SheetFillIntent(Intent):
    """Fill a form for a patient in the office's Open Dental, exactly once as a whole."""

    contract: Literal["sheet.fill"]
    version: Literal[1]
    payload: SheetFill
