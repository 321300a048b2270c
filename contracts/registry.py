"""Which intent model serves each (contract, major version). Versions are served side by side:
a breaking change adds a new entry, it never edits an old one."""

from __future__ import annotations

from typing import get_args

from contracts.deprecation import Deprecation
from contracts.envelope import Intent
from contracts.v1.allergy import AllergyCreateIntent
from contracts.v1.appointment import (
    AppointmentBreakIntent,
    AppointmentConfirmIntent,
    AppointmentCreateIntent,
)
from contracts.v1.appointment_edit import AppointmentNoteIntent, AppointmentUpdateIntent
from contracts.v1.commlog import CommlogCreateIntent
from contracts.v1.document import DocumentUploadIntent
from contracts.v1.medication import MedicationCreateIntent
from contracts.v1.patfield import PatFieldSetIntent
from contracts.v1.patient import PatientCreateIntent, PatientUpdateIntent
from contracts.v1.payment import PaymentCreateIntent
from contracts.v1.payment_refund import PaymentRefundIntent
from contracts.v1.problem import ProblemCreateIntent
from contracts.v1.sheet import SheetFillIntent
from contracts.v2.appointment import AppointmentConfirmIntentV2
from contracts.v2.commlog import CommlogCreateIntentV2

INTENT_MODELS: tuple[type[Intent], ...] = (
    PatientCreateIntent,
    PatientUpdateIntent,
    AppointmentCreateIntent,
    AppointmentConfirmIntent,
    AppointmentBreakIntent,
    CommlogCreateIntent,
    PaymentCreateIntent,
    DocumentUploadIntent,
    AppointmentUpdateIntent,
    AppointmentNoteIntent,
    PaymentRefundIntent,
    AppointmentConfirmIntentV2,
    CommlogCreateIntentV2,
    PatFieldSetIntent,
    AllergyCreateIntent,
    MedicationCreateIntent,
    ProblemCreateIntent,
    SheetFillIntent,
)


def contract_key(model: type[Intent]) -> tuple[str, int]:
    """The (contract, version) an intent model declares in its Literal fields."""
    (contract,) = get_args(model.model_fields["contract"].annotation)
    (version,) = get_args(model.model_fields["version"].annotation)
    return str(contract), int(version)


# Looked up several times per intent (parse, outcome, metrics): a dict, not a scan that reads
# each model's Literal annotations.
_BY_KEY: dict[tuple[str, int], type[Intent]] = {contract_key(m): m for m in INTENT_MODELS}


def intent_model(contract: str, version: int) -> type[Intent] | None:
    """The model for this pair, or None when the hub does not know it."""
    return _BY_KEY.get((contract, version))


def known_contracts() -> list[tuple[str, int]]:
    """Every (contract, version) the hub accepts, in registry order."""
    return [contract_key(model) for model in INTENT_MODELS]


def deprecation_of(contract: str | None, version: int | None) -> Deprecation | None:
    """The deprecation of a served version, or None when it is current (or not served)."""
    model = None if contract is None or version is None else intent_model(contract, version)
    return None if model is None else model.deprecation


def deprecated_versions() -> list[tuple[str, int]]:
    """Every served (contract, version) that is deprecated: the bounded set a metric names."""
    return [contract_key(model) for model in INTENT_MODELS if model.deprecation is not None]
