"""An intake form full of distinctive patient data, its signed request, and the adapter's
configuration for tests."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from adapters.forms import (
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    IntakeConfig,
    secret_key,
    sign,
)

SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC02ZjFjMmE5ZS0wMDAw"  # as `hub forms` reads it
KEY = secret_key(SECRET)
TOLERANCE_S = 300
MAX_BODY_BYTES = 64 * 1024

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


def signed(
    body: bytes, key: bytes = KEY, *, webhook_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """The headers a Standard Webhooks sender puts on ``body``: a new id unless given, and the
    current time unless given."""
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        WEBHOOK_ID: webhook_id,
        WEBHOOK_TIMESTAMP: stamp,
        WEBHOOK_SIGNATURE: sign(key, webhook_id, stamp, body),
        "Content-Type": "application/json",
    }


def intake_config(
    offices: frozenset[str], *, retry_after_s: int, clock: Callable[[], float] = time.time
) -> IntakeConfig:
    return IntakeConfig(
        signing_key=KEY,
        retry_after_s=retry_after_s,
        offices=offices,
        timestamp_tolerance_s=TOLERANCE_S,
        max_body_bytes=MAX_BODY_BYTES,
        clock=clock,
    )


def patient_values() -> list[str]:
    """Every value the form holds about the patient, each of which must never leak."""
    return [value for value in PATIENT.values() if len(value) > 2] + [ANSWER]
