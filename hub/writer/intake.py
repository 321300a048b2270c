"""An intent's intake: who sent it, what it is, whether they may, and whether it is new.

    identify   only the broker-checked ``user_id`` says who published the message
    validate   the body against its contract (``parse_intent``)
    authorize  a known vendor, the queue's own office, and a data agreement for the contract
    claim      the ledger says whether the intent is new, resumable, done or in doubt

Each returns what it found or a ``Final`` decision (rejected, or a duplicate). A refused body is
still read loosely for the envelope fields an outcome can name (idempotency key, contract,
version, correlation id), each only if it is well-formed on its own. An operator's replay (a
delivery from ``hub.replay``, which no vendor may write to) reopens a rejected or dead intent
with the same payload; a vendor's own resend of it is a duplicate. An intent left in doubt goes
on to reconciliation (reconciling.py) before anything is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from contracts import (
    ContractViolation,
    Intent,
    OutcomeReason,
    Payload,
    known_contracts,
    parse_intent,
)
from contracts.fields import CorrelationId, IdempotencyKey
from hub import names
from hub.ledger import ClaimResult, Conflict, Finished, Fresh, InDoubt, IntentClaim, Ledger
from hub.registry import Registry
from hub.writer.decisions import Final, IntentIdentity, rejected
from hub.writer.office_queue import Delivery
from hub.writer.retrying import Budget

_KEY: TypeAdapter[str] = TypeAdapter(IdempotencyKey)
_CORRELATION: TypeAdapter[str] = TypeAdapter(CorrelationId)


@dataclass(frozen=True, kw_only=True)
class Admitted:
    """A valid intent from a vendor allowed to send it to this office."""

    intent: Intent
    identity: IntentIdentity


def admit(delivery: Delivery, registry: Registry) -> Admitted | Final:
    """Identify, validate and authorize: pure, no I/O."""
    identity = identify(delivery, registry)
    if isinstance(identity, Final):
        return identity
    admitted = validate(delivery, identity)
    if isinstance(admitted, Final):
        return admitted
    refusal = authorize(registry, admitted)
    return admitted if refusal is None else refusal


def identify(delivery: Delivery, registry: Registry) -> IntentIdentity | Final:
    """The vendor behind the delivery; a message without ``user_id`` is refused, as nobody
    proved who sent it (and no outcome can be routed back to anyone)."""
    identity = IntentIdentity(office=delivery.office, message_id=delivery.message_id)
    if not delivery.user_id:
        message = "The message has no user_id, so its publisher is not proven."
        return rejected(identity, OutcomeReason.UNAUTHENTICATED, message)
    vendor = delivery.user_id
    return replace(identity, vendor=vendor, vendor_known=vendor in registry.vendors)


def validate(delivery: Delivery, identity: IntentIdentity) -> Admitted | Final:
    """The typed intent and what it says about itself, or ``invalid`` with every broken rule."""
    try:
        intent = parse_intent(delivery.body)
    except ContractViolation as exc:
        message = f"The intent breaks {len(exc.errors)} rule(s) of its contract."
        loosely = _loosely_read(delivery.body, identity)
        return rejected(loosely, OutcomeReason.INVALID, message, tuple(exc.errors))
    return Admitted(intent=intent, identity=replace(
        identity,
        contract=intent.contract,
        version=intent.version,
        idempotency_key=intent.idempotency_key,
        correlation_id=intent.correlation_id,
    ))


def authorize(registry: Registry, admitted: Admitted) -> Final | None:
    """None when the vendor may send this contract to this queue's office."""
    identity, intent = admitted.identity, admitted.intent
    if not identity.vendor_known or identity.vendor is None:
        message = "The publisher is not a vendor of the hub."
        return rejected(identity, OutcomeReason.UNAUTHORIZED, message)
    if intent.office_id != identity.office:
        message = "The intent's office_id is not the office whose queue it was routed to."
        return rejected(identity, OutcomeReason.OFFICE_MISMATCH, message)
    if not registry.allows(identity.vendor, identity.office, intent.contract):
        message = "The office has no data agreement letting this vendor send this contract."
        return rejected(identity, OutcomeReason.UNAUTHORIZED, message)
    return None


def _loosely_read(body: bytes, identity: IntentIdentity) -> IntentIdentity:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested beyond reason
        return identity
    if not isinstance(document, dict):
        return identity
    contract = document.get("contract")
    version = document.get("version")
    return replace(
        identity,
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


# Claiming ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OwnAttempts:
    """This writer process's attempts: the ledger names the writer that began each attempt, and
    the process knows which of its own are still running. An attempt in doubt that is this
    writer's and no longer running is over: it is reconciled at once, never waited out."""

    writer_id: str
    running: set[int] = field(default_factory=set)  # intent ids with an attempt under way here

    def over(self, doubt: InDoubt) -> bool:
        return doubt.attempt_writer == self.writer_id and doubt.intent_id not in self.running


@dataclass(frozen=True, kw_only=True)
class Claimed:
    """A claimed intent that may go on, with what its retries have used so far."""

    identity: IntentIdentity
    budget: Budget
    doubt: InDoubt | None = None  # an earlier attempt may have landed: reconcile first
    begun: bool = False  # the claim began the first attempt itself (``identity.attempt`` is 1)
    resent: bool = False  # reconciled: this attempt sends again one that was in doubt


async def claim(
    ledger: Ledger,
    delivery: Delivery,
    admitted: Admitted,
    now: datetime,
    *,
    writer_id: str,
    batching_s: float = 0.0,
) -> Claimed | Final:
    """The claimed intent, or its final decision: a duplicate, or a key used for another
    payload. ``batching_s``: how long the claim may wait to be committed with other lanes'."""
    identity, intent = admitted.identity, admitted.intent
    assert identity.vendor is not None  # authorization refused every message without a vendor
    result = await ledger.claim(
        IntentClaim(
            vendor=identity.vendor,
            idempotency_key=intent.idempotency_key,
            payload_hash=intent.payload_hash(),
            contract=intent.contract,
            contract_version=intent.version,
            office_id=identity.office,
            message_id=delivery.message_id,
            correlation_id=intent.correlation_id,
            received_at=now,
            replayed=delivery.exchange == names.REPLAY_EXCHANGE,
            begin_attempt=_nothing_to_look_up(intent.payload),
            writer_id=writer_id,
        ),
        batching_s=batching_s,
    )
    claimed = _go_on_or_stop(identity, result)
    if isinstance(claimed, Final):
        return claimed
    if isinstance(result, Fresh):
        begun = result.attempt is not None
        identity = replace(claimed, attempt=result.attempt) if begun else claimed
        return Claimed(identity=identity, budget=Budget(), begun=begun)
    budget = Budget.of(await ledger.retry_budget(result.intent_id))
    doubt = result if isinstance(result, InDoubt) else None
    return Claimed(identity=claimed, budget=budget, doubt=doubt)


def _nothing_to_look_up(payload: Payload) -> bool:
    """Whether the request is known before any ledger read (no vendor ref to resolve): then a
    new intent's claim begins its first attempt too, and nothing stands between that and the
    request but pacing, which an abandoned attempt releases."""
    subject = payload.subject()
    return subject is None or subject.ref is None


def _go_on_or_stop(identity: IntentIdentity, result: ClaimResult) -> IntentIdentity | Final:
    if isinstance(result, Conflict):
        # The key belongs to another intent: its row is left alone, so no intent_id here.
        message = "The idempotency key was already used for another payload."
        return rejected(identity, OutcomeReason.IDEMPOTENCY_CONFLICT, message)
    claimed = replace(identity, intent_id=result.intent_id)
    if isinstance(result, Finished):
        return Final(
            intent=claimed, status=result.status, duplicate=True, repeat_json=result.outcome_json
        )
    if isinstance(result, Fresh):
        return claimed
    return replace(claimed, attempt=result.attempts or None)
