"""Step 2, validate: the body against its contract (``parse_intent``).

A refused body is still read loosely for the envelope fields an outcome can name (idempotency
key, contract, version, correlation id), each only if it is well-formed on its own.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from contracts import ContractViolation, Intent, OutcomeReason, known_contracts, parse_intent
from contracts.fields import CorrelationId, IdempotencyKey
from hub.writer.delivery import Delivery
from hub.writer.verdict import About, Early, Outcome, Verdict

_KEY: TypeAdapter[str] = TypeAdapter(IdempotencyKey)
_CORRELATION: TypeAdapter[str] = TypeAdapter(CorrelationId)


def validate(delivery: Delivery, about: About) -> tuple[Intent, About]:
    """The typed intent and what it says about itself; raises ``Early`` when it is invalid."""
    try:
        intent = parse_intent(delivery.body)
    except ContractViolation as exc:
        raise Early(
            Verdict(
                about=_loosely_read(delivery.body, about),
                outcome=Outcome.REJECTED,
                reason=OutcomeReason.INVALID,
                errors=tuple(exc.errors),
                message=f"The intent breaks {len(exc.errors)} rule(s) of its contract.",
            )
        ) from None
    return intent, replace(
        about,
        contract=intent.contract,
        version=intent.version,
        idempotency_key=intent.idempotency_key,
        correlation_id=intent.correlation_id,
    )


def _loosely_read(body: bytes, about: About) -> About:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested beyond reason
        return about
    if not isinstance(document, dict):
        return about
    contract = document.get("contract")
    version = document.get("version")
    return replace(
        about,
        contract=contract if contract in {name for name, _ in known_contracts()} else None,
        version=version if type(version) is int else None,
        idempotency_key=_valid(_KEY, document.get("idempotency_key")),
        correlation_id=_valid(_CORRELATION, document.get("correlation_id")),
    )


def _valid(adapter: TypeAdapter[str], value: Any) -> str | None:
    try:
        return adapter.validate_python(value, strict=True)
    except ValidationError:
        return None
