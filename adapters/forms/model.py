"""The patient-intake form an online-forms service posts: the adapter's own JSON, snake_case.

Its fields reuse the contracts' formats (a birthdate is ``yyyy-MM-dd``, a state two capitals...), so
a form that validates here always makes valid intents, and a refusal names the same rules.
Validation is strict and closed: unknown fields are refused, nothing is coerced.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.fields import (
    PRINTABLE,
    EmailAddress,
    Name,
    OdDate,
    OfficeId,
    Phone,
    Rfc3339DateTime,
    StateCode,
    Text100,
    VendorRef,
    ZipCode,
)

FormGender = Literal["male", "female", "other", "unknown"]
FormName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=PRINTABLE.pattern)
]
Question = Annotated[str, StringConstraints(min_length=1, max_length=500)]
AnswerText = Annotated[str, StringConstraints(max_length=4000)]
MAX_ANSWERS = 500


class FormModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class IntakePatient(FormModel):
    """The patient as the form asked for them; only the names are required."""

    last_name: Name
    first_name: Name
    birthdate: OdDate | None = None
    gender: FormGender | None = None
    home_phone: Phone | None = None
    work_phone: Phone | None = None
    mobile_phone: Phone | None = None
    email: EmailAddress | None = None
    address: Text100 | None = None
    address2: Text100 | None = None
    city: Text100 | None = None
    state: StateCode | None = None
    zip: ZipCode | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: object) -> object:
        # A web form sends a field left empty as "" or null: the patient did not answer it.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value not in ("", None)}
        return data


class Answer(FormModel):
    question: Question
    answer: AnswerText


class IntakeForm(FormModel):
    """One submitted intake form."""

    submission_id: VendorRef = Field(
        description="The forms service's id of this submission; the same on a webhook retry."
    )
    office_id: OfficeId
    form_name: FormName = "Patient intake"
    submitted_at: Rfc3339DateTime
    patient: IntakePatient
    answers: list[Answer] = Field(default_factory=list, max_length=MAX_ANSWERS)
