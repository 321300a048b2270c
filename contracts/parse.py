"""``parse_intent``: bytes off the broker to a typed, validated intent, or every broken rule.

The body is read twice: once with ``json`` to find (contract, version) and spot nulls, then by
the chosen model in pydantic's JSON mode, where strictness still lets enums and numbers through
as JSON has them.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from pydantic import JsonValue, ValidationError

from contracts.envelope import Envelope, Intent
from contracts.errors import ContractViolation, FieldError
from contracts.limits import HUB_MAX_BYTES, MAX_DEPTH, deeper_than, max_bytes
from contracts.messages import field_error, field_errors, path_of
from contracts.registry import intent_model, known_contracts

_SERVED = frozenset(name for name, _ in known_contracts())  # built once, not per message


class _AnyPayloadIntent(Envelope):
    """The envelope alone, to report its errors when the contract is unknown."""

    payload: dict[str, JsonValue]


def parse_intent(body: bytes | str) -> Intent:
    """The intent in ``body``, typed by its contract; raises ``ContractViolation``. A body above
    the hub's ceiling or nested too deep is refused before it is parsed (contracts/limits.py)."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    _check_bounds(raw, HUB_MAX_BYTES, "the hub's")
    if deeper_than(raw, MAX_DEPTH):
        raise ContractViolation(
            [field_error("$", "too_deep", f"nests objects or arrays deeper than {MAX_DEPTH}")]
        )
    text, document = _load(body)
    contract = document.get("contract")
    if isinstance(contract, str) and contract in _SERVED:
        # (a contract is named in the refusal only when it is one of the hub's)
        _check_bounds(raw, max_bytes(contract), f"the {contract} contract's")
    model = _model_for(document)
    errors: list[FieldError] = []
    intent: Intent | None = None
    try:
        if model is None:
            _AnyPayloadIntent.model_validate_json(text)
        else:
            intent = model.model_validate_json(text)
    except ValidationError as exc:
        errors = field_errors(exc)
    failed = {error.path for error in errors}
    if model is None and not failed & {"contract", "version"}:
        errors.append(_unknown_contract())
    errors += _null_errors(document, already=failed)
    if errors or intent is None:
        raise ContractViolation(errors)
    return intent


def _check_bounds(raw: bytes, limit: int, whose: str) -> None:
    if len(raw) > limit:
        predicate = f"is {len(raw)} bytes, above {whose} ceiling of {limit} bytes"
        raise ContractViolation([field_error("$", "too_large", predicate)])


def _load(body: bytes | str) -> tuple[str, dict[str, Any]]:
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        document = json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise ContractViolation([field_error("$", "json_invalid", "is not UTF-8")]) from exc
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise ContractViolation(
            [field_error("$", "json_invalid", f"is not JSON ({where})")]
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise ContractViolation([field_error("$", "json_invalid", "is not JSON")]) from exc
    if not isinstance(document, dict):
        raise ContractViolation([field_error("$", "type", "must be a JSON object")])
    return text, document


def _model_for(document: dict[str, Any]) -> type[Intent] | None:
    contract, version = document.get("contract"), document.get("version")
    if isinstance(contract, str) and isinstance(version, int) and not isinstance(version, bool):
        return intent_model(contract, version)
    return None


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError("NaN and Infinity are not JSON")


def _unknown_contract() -> FieldError:
    names = ", ".join(f"{contract} v{version}" for contract, version in known_contracts())
    return field_error(
        "contract", "unknown_contract", f"and version name no contract this hub serves ({names})"
    )


def _null_errors(document: dict[str, Any], *, already: set[str]) -> list[FieldError]:
    # Optional fields are absent, never null: pydantic's Optional would let null through.
    nulls = [path_of([key]) for key, value in document.items() if value is None]
    payload = document.get("payload")
    if isinstance(payload, dict):
        nulls += [path_of(["payload", key]) for key, value in payload.items() if value is None]
    return [
        field_error(path, "type", "must not be null; leave an optional field out instead")
        for path in nulls
        if path not in already
    ]
