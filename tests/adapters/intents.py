"""One intent of each v1 contract, built with the library's typed builders."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.publisher import intents
from contracts import Intent
from contracts.v1.allergy import AllergyCreate
from contracts.v1.appointment import AppointmentBreak, AppointmentConfirm, AppointmentCreate
from contracts.v1.appointment_edit import AppointmentNote, AppointmentUpdate
from contracts.v1.commlog import CommlogCreate
from contracts.v1.medication import MedicationCreate
from contracts.v1.patfield import PatFieldSet
from contracts.v1.patient import PatientCreate, PatientUpdate
from contracts.v1.payment import PaymentCreate
from contracts.v1.payment_refund import PaymentRefund
from contracts.v1.problem import ProblemCreate

MakeIntent = Callable[[str, str], Intent]
"""(office, idempotency key) -> intent."""

PATIENT_NAME = "Quillonby"
"""A last name distinctive enough that finding it in an error message means the payload leaked."""


def new_patient(office: str, key: str) -> Intent:
    payload = PatientCreate(LName=PATIENT_NAME, FName="Ada", PatientRef=f"ref-{key}")
    return intents.patient_create(payload, office_id=office, idempotency_key=key)


EVERY_CONTRACT = [
    pytest.param(new_patient, id="patient.create"),
    pytest.param(
        lambda office, key: intents.patient_update(
            PatientUpdate(PatientRef="ref-1", Email="ada@example.com"),
            office_id=office,
            idempotency_key=key,
            correlation_id="corr-1",
        ),
        id="patient.update",
    ),
    pytest.param(
        lambda office, key: intents.appointment_create(
            AppointmentCreate(PatientRef="ref-1", Op=1, AptDateTime="2025-03-04 09:00:00"),
            office_id=office,
            idempotency_key=key,
        ),
        id="appointment.create",
    ),
    pytest.param(
        lambda office, key: intents.appointment_confirm(
            AppointmentConfirm(AptNum=7, confirmVal="Confirmed"),
            office_id=office,
            idempotency_key=key,
            correlation_id="corr-2",
        ),
        id="appointment.confirm",
    ),
    pytest.param(
        lambda office, key: intents.appointment_break(
            AppointmentBreak(AppointmentRef="apt-1", sendToUnscheduledList="true"),
            office_id=office,
            idempotency_key=key,
        ),
        id="appointment.break",
    ),
    pytest.param(
        lambda office, key: intents.commlog_create(
            CommlogCreate(PatientRef="ref-1", Note="Called about the visit", Mode_="Phone"),
            office_id=office,
            idempotency_key=key,
        ),
        id="commlog.create",
    ),
    pytest.param(
        lambda office, key: intents.payment_create(
            PaymentCreate(PatNum=12, PayAmt=25.5),
            office_id=office,
            idempotency_key=key,
        ),
        id="payment.create",
    ),
    pytest.param(
        lambda office, key: intents.appointment_update(
            AppointmentUpdate(AppointmentRef="apt-1", AptDateTime="2025-03-05 10:00:00", Op=2),
            office_id=office,
            idempotency_key=key,
        ),
        id="appointment.update",
    ),
    pytest.param(
        lambda office, key: intents.appointment_note(
            AppointmentNote(AptNum=7, Note="Reminder sent"),
            office_id=office,
            idempotency_key=key,
        ),
        id="appointment.note",
    ),
    pytest.param(
        lambda office, key: intents.payment_refund(
            PaymentRefund(PayNum=12),
            office_id=office,
            idempotency_key=key,
        ),
        id="payment.refund",
    ),
    pytest.param(
        lambda office, key: intents.patfield_set(
            PatFieldSet(PatientRef="ref-1", FieldName="Referral Source", FieldValue="Web form"),
            office_id=office,
            idempotency_key=key,
        ),
        id="patfield.set",
    ),
    pytest.param(
        lambda office, key: intents.allergy_create(
            AllergyCreate(PatNum=12, defDescription="Penicillin", Reaction="Hives"),
            office_id=office,
            idempotency_key=key,
        ),
        id="allergy.create",
    ),
    pytest.param(
        lambda office, key: intents.medication_create(
            MedicationCreate(PatNum=12, medName="Amoxicillin", PatNote="500 mg"),
            office_id=office,
            idempotency_key=key,
        ),
        id="medication.create",
    ),
    pytest.param(
        lambda office, key: intents.problem_create(
            ProblemCreate(PatientRef="ref-1", diseaseDefName="Asthma", ProbStatus="Active"),
            office_id=office,
            idempotency_key=key,
        ),
        id="problem.create",
    ),
]
