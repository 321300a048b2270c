"""An intake form full of distinctive patient data, and its signed request."""

from __future__ import annotations

import json
from typing import Any

from adapters.forms import SIGNATURE_HEADER, signature

SECRET = b"test-webhook-secret-6f1c2a9e"

PATIENT = {
    "last_name": "Quillonby",
    "first_name": "Adelheid",
    "birthdate": "1984-07-19",
    "gender": "female",
    "home_phone": "(503) 555-0142",
    "work_phone": "",
    "mobile_phone": "503-555-0199",
    "email": "adelheid.quillonby@example.com",
    "address": "1227 Larchmont Terrace",
    "city": "Portland",
    "state": "OR",
    "zip": "97201",
}
ANSWER = "Penicillin and latex"


def intake_form(office: str, submission_id: str, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "submission_id": submission_id,
        "office_id": office,
        "form_name": "New patient intake",
        "submitted_at": "2025-02-03T09:15:00-08:00",
        "patient": dict(PATIENT),
        "answers": [
            {"question": "Any allergies?", "answer": ANSWER},
            {"question": "Reason for visit", "answer": "Cleaning"},
        ],
    }
    return form | changes


def body_of(form: dict[str, Any]) -> bytes:
    return json.dumps(form).encode("utf-8")


def signed(body: bytes, secret: bytes = SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: signature(secret, body), "Content-Type": "application/json"}


def patient_values() -> list[str]:
    """Every value the form holds about the patient, each of which must never leak."""
    return [value for value in PATIENT.values() if len(value) > 2] + [ANSWER]
