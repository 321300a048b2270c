"""Typed intent builders, one per contract: the contract's payload model in, its intent out.

    intent = intents.patient_create(
        PatientCreate(LName="Doe", FName="Jane", PatientRef="form-81"),
        office_id="office-1", idempotency_key="form-81:patient.create")

``occurred_at`` (an aware datetime) defaults to now. An envelope field that breaks the contract
raises ``ContractViolation`` with its path and rule, never the value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from pydantic import ValidationError

from contracts import ContractViolation, Intent, Payload
from contracts.messages import field_errors
from contracts.registry import contract_key
from contracts.v1.allergy import AllergyCreate, AllergyCreateIntent
from contracts.v1.appointment import (
    AppointmentBreak,
    AppointmentBreakIntent,
    AppointmentConfirm,
    AppointmentConfirmIntent,
    AppointmentCreate,
    AppointmentCreateIntent,
)
from contracts.v1.appointment_edit import (
    AppointmentNote,
    AppointmentNoteIntent,
    AppointmentUpdate,
    AppointmentUpdateIntent,
)
from contracts.v1.commlog import CommlogCreate, CommlogCreateIntent
from contracts.v1.document import DocumentUpload, DocumentUploadIntent
from contracts.v1.medication import MedicationCreate, MedicationCreateIntent
from contracts.v1.patfield import PatFieldSet, PatFieldSetIntent
from contracts.v1.patient import (
    PatientCreate,
    PatientCreateIntent,
    PatientUpdate,
    PatientUpdateIntent,
)
from contracts.v1.payment import PaymentCreate, PaymentCreateIntent
from contracts.v1.payment_refund import PaymentRefund, PaymentRefundIntent
from contracts.v1.problem import ProblemCreate, ProblemCreateIntent
from contracts.v1.sheet import SheetFill, SheetFillIntent
from contracts.v2.appointment import AppointmentConfirmIntentV2, AppointmentConfirmV2
from contracts.v2.commlog import CommlogCreateIntentV2, CommlogCreateV2

_I = TypeVar("_I", bound=Intent)


def patient_create(
    payload: PatientCreate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> PatientCreateIntent:
    return _build(
        PatientCreateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def patient_update(
    payload: PatientUpdate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> PatientUpdateIntent:
    return _build(
        PatientUpdateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def appointment_create(
    payload: AppointmentCreate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> AppointmentCreateIntent:
    return _build(
        AppointmentCreateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def appointment_confirm(
    payload: AppointmentConfirm,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> AppointmentConfirmIntent:
    return _build(
        AppointmentConfirmIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def appointment_break(
    payload: AppointmentBreak,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> AppointmentBreakIntent:
    return _build(
        AppointmentBreakIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def appointment_confirm_v2(
    payload: AppointmentConfirmV2,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> AppointmentConfirmIntentV2:
    return _build(
        AppointmentConfirmIntentV2, payload, office_id, idempotency_key, occurred_at,
        correlation_id,
    )


def commlog_create_v2(
    payload: CommlogCreateV2,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> CommlogCreateIntentV2:
    return _build(
        CommlogCreateIntentV2, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def commlog_create(
    payload: CommlogCreate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> CommlogCreateIntent:
    return _build(
        CommlogCreateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def payment_create(
    payload: PaymentCreate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> PaymentCreateIntent:
    return _build(
        PaymentCreateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def document_upload(
    payload: DocumentUpload,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> DocumentUploadIntent:
    return _build(
        DocumentUploadIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def appointment_update(
    payload: AppointmentUpdate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> AppointmentUpdateIntent:
    return _build(
        AppointmentUpdateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def appointment_note(
    payload: AppointmentNote,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> AppointmentNoteIntent:
    return _build(
        AppointmentNoteIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def payment_refund(
    payload: PaymentRefund,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> PaymentRefundIntent:
    return _build(
        PaymentRefundIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def patfield_set(
    payload: PatFieldSet,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> PatFieldSetIntent:
    return _build(
        PatFieldSetIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def allergy_create(
    payload: AllergyCreate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> AllergyCreateIntent:
    return _build(
        AllergyCreateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def medication_create(
    payload: MedicationCreate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> MedicationCreateIntent:
    return _build(
        MedicationCreateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def problem_create(
    payload: ProblemCreate,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> ProblemCreateIntent:
    return _build(
        ProblemCreateIntent, payload, office_id, idempotency_key, occurred_at, correlation_id
    )


def sheet_fill(
    payload: SheetFill,
    *,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
) -> SheetFillIntent:
    return _build(SheetFillIntent, payload, office_id, idempotency_key, occurred_at, correlation_id)


def _build(
    model: type[_I],
    payload: Payload,
    office_id: str,
    idempotency_key: str,
    occurred_at: datetime | None,
    correlation_id: str | None,
) -> _I:
    contract, version = contract_key(model)
    when = occurred_at if occurred_at is not None else datetime.now(UTC)
    fields: dict[str, object] = {
        "contract": contract,
        "version": version,
        "idempotency_key": idempotency_key,
        "office_id": office_id,
        "occurred_at": when.isoformat(),
        "payload": payload,
    }
    # Left out rather than null: an intent's optional fields are absent, never null.
    if correlation_id is not None:
        fields["correlation_id"] = correlation_id
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        # Not chained: pydantic's error text quotes the input.
        raise ContractViolation(field_errors(exc)) from None
