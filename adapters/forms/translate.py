"""An intake form becomes two intents, in this order: ``patient.create`` (registering the
submission id as the patient's ``PatientRef``) and ``commlog.create`` recording the form on that
patient's chart.

Idempotency keys derive from the submission id, so a webhook retry repeats the same intents and
the hub treats them as duplicates, never as a second patient. The commlog's note says which form
arrived and when; the answers stay out of it (Open Dental gets no sheet from v1 contracts).
"""

from __future__ import annotations

from datetime import datetime

from adapters.forms.model import FormGender, IntakeForm
from adapters.publisher import intents
from contracts.v1.commlog import CommlogCreate, CommlogCreateIntent
from contracts.v1.patient import PatientCreate, PatientCreateIntent

_GENDERS: dict[FormGender, str] = {
    "male": "Male",
    "female": "Female",
    "other": "Other",
    "unknown": "Unknown",
}


def intake_key(submission_id: str, contract: str) -> str:
    return f"intake:{submission_id}:{contract}"


def intake_intents(form: IntakeForm) -> tuple[PatientCreateIntent, CommlogCreateIntent]:
    occurred_at = datetime.fromisoformat(form.submitted_at)
    patient = intents.patient_create(
        _patient(form),
        office_id=form.office_id,
        idempotency_key=intake_key(form.submission_id, "patient.create"),
        occurred_at=occurred_at,
        correlation_id=form.submission_id,
    )
    commlog = intents.commlog_create(
        CommlogCreate(
            PatientRef=form.submission_id,
            Note=_note(form),
            Mode_="None",
            SentOrReceived="Received",
        ),
        office_id=form.office_id,
        idempotency_key=intake_key(form.submission_id, "commlog.create"),
        occurred_at=occurred_at,
        correlation_id=form.submission_id,
    )
    return patient, commlog


def _patient(form: IntakeForm) -> PatientCreate:
    patient = form.patient
    fields = {
        "LName": patient.last_name,
        "FName": patient.first_name,
        "PatientRef": form.submission_id,
        "Birthdate": patient.birthdate,
        "Gender": _GENDERS[patient.gender] if patient.gender else None,
        "HmPhone": patient.home_phone,
        "WkPhone": patient.work_phone,
        "WirelessPhone": patient.mobile_phone,
        "Email": patient.email,
        "Address": patient.address,
        "Address2": patient.address2,
        "City": patient.city,
        "State": patient.state,
        "Zip": patient.zip,
    }
    # Unanswered fields are left out: an intent's optional fields are absent, never null.
    return PatientCreate.model_validate({k: v for k, v in fields.items() if v is not None})


def _note(form: IntakeForm) -> str:
    answers = len(form.answers)
    return (
        f"Online form received: {form.form_name}, submitted {form.submitted_at} "
        f"(submission {form.submission_id}, {answers} answer{'' if answers == 1 else 's'})."
    )
