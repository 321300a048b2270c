"""Finish: a final decision made durable and told before its delivery is acked.

Rejected and dead intents go to ``hub.dlx`` first, then the ledger's result, then the outcome
event: a crash between any two leaves the message unacked, and its redelivery finds the ledger
either unfinished (all is done again; a dead letter may be doubled, never lost) or finished (the
first outcome is repeated). Each finish runs as a shielded task (``ShieldedTasks``): a stopping
worker never cuts it short, and waits for it before closing the connection.

An outcome the broker will not take does not hold the message: the decision stands, the event
waits in the outbox for its vendor (hub/outbox) and the delivery is acked, so one vendor's
missing or full outcome queue never stalls an office for the others. Every publish is
``mandatory`` and waits for its confirm; a nack, a return (unroutable), a timeout or a broken
channel is ``PublishFailed``. aiormq matches a returned message to its publish by
``message_id``, so every publish has one.

What a final decision writes (the outcome event, the ledger's ``Finish``, the dead-letter
headers) is computed by pure functions, so every reason's shape is tested without a broker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import aiormq
from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, FieldValue
from pamqp.commands import Basic

from contracts import CHANGE_TYPE, ChangeEvent, OdRow, OutcomeEvent, OutcomeStatus, deprecation_of
from contracts.amqp import CONTENT_TYPE
from hub import names
from hub.errors import TransientError
from hub.ledger import ApiCallRecord, Finish, Ledger
from hub.outbox import OutcomeOutbox
from hub.writer.decisions import (
    NO_VENDOR,
    UNKNOWN_CONTRACT,
    Final,
    Hold,
    HoldCause,
    IntentIdentity,
)
from hub.writer.office_queue import Delivery
from hub.writer.retrying import Backoff, Draw

log = logging.getLogger(__name__)
_T = TypeVar("_T")

PUBLISH_FAILURES = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,  # a RuntimeError: the channel is closed
    ConnectionError,
    TimeoutError,
)


class PublishFailed(TransientError):
    """The broker did not confirm a publish: nacked, returned, timed out or disconnected."""


# What a final decision writes --------------------------------------------------------------


def outcome_event(final: Final, decided_at: datetime) -> OutcomeEvent | None:
    """The event for the vendor, or None when there is nobody to route it to."""
    identity = final.intent
    if final.duplicate:
        return repeated(final.repeat_json, identity.message_id)
    if identity.vendor is None or not identity.vendor_known:
        return None
    return OutcomeEvent(
        vendor=identity.vendor,
        idempotency_key=identity.idempotency_key or "",
        office_id=identity.office,
        contract=identity.contract or UNKNOWN_CONTRACT,
        version=identity.version,
        status=final.status,
        reason=final.reason,
        errors=list(final.errors),
        od=[] if final.od is None else [final.od],
        message=final.message,
        decided_at=decided_at,
        correlation_id=identity.correlation_id,
        message_id=identity.message_id,
        deprecation=deprecation_of(identity.contract, identity.version),
    )


def repeated(outcome_json: str | None, message_id: str | None) -> OutcomeEvent | None:
    """The first outcome of an intent, marked as a repeat answering ``message_id``; None if the
    ledger kept none."""
    if outcome_json is None:
        return None
    first = OutcomeEvent.from_json(outcome_json)
    return first.model_copy(update={"duplicate": True, "message_id": message_id})


def finish_of(final: Final, event: OutcomeEvent | None) -> Finish:
    """The ledger's terminal state for a final decision."""
    od: OdRow | None = final.od
    return Finish(
        status=final.status,
        od_table=None if od is None else od.table,
        od_primary_key=None if od is None else od.primary_key,
        reason=None if final.reason is None else final.reason.value,
        last_error=None if final.status is OutcomeStatus.APPLIED else final.message,
        outcome_json=None if event is None else event.to_json(),
        refs=final.refs,
        calls=final.calls,
    )


def dead_letter_headers(final: Final, *, dead_lettered_at: datetime) -> dict[str, FieldValue]:
    """The headers that say why a message sits in ``hub.dead``: ids, field paths and times."""
    identity = final.intent
    headers: dict[str, FieldValue] = {
        names.HEADER_REASON: "" if final.reason is None else final.reason.value,
        names.HEADER_VENDOR: identity.vendor or NO_VENDOR,
        names.HEADER_OFFICE: identity.office,
        names.HEADER_CONTRACT: identity.contract or UNKNOWN_CONTRACT,
        names.HEADER_DEAD_LETTERED_AT: dead_lettered_at.isoformat(),
        names.HEADER_ATTEMPTS: identity.attempt or 0,
    }
    if final.errors:
        paths = [{"path": error.path, "rule": error.rule} for error in final.errors]
        headers[names.HEADER_ERRORS] = _compact(paths)
    if final.candidates:
        rows = [{"table": row.table, "primary_key": row.primary_key} for row in final.candidates]
        headers[names.HEADER_CANDIDATES] = _compact(rows)
    if identity.idempotency_key is not None:
        headers[names.HEADER_IDEMPOTENCY_KEY] = identity.idempotency_key
    if identity.intent_id is not None:
        headers[names.HEADER_INTENT_ID] = identity.intent_id
    return headers


def _compact(rows: Sequence[Mapping[str, object]]) -> str:
    return json.dumps(rows, separators=(",", ":"))


# The two publishes -------------------------------------------------------------------------


class Publisher(Protocol):
    async def outcome(self, event: OutcomeEvent) -> None: ...

    async def dead_letter(self, delivery: Delivery, headers: dict[str, FieldValue]) -> None: ...


class AmqpPublisher:
    """Publishes on a channel opened with publisher confirms and ``on_return_raises``."""

    def __init__(self, channel: AbstractChannel, *, confirm_timeout_s: float) -> None:
        self._channel = channel
        self._confirm_timeout_s = confirm_timeout_s

    async def outcome(self, event: OutcomeEvent) -> None:
        await self.stored_outcome(event.routing_key(), event.to_json(), event.correlation_id)

    async def stored_outcome(
        self, routing_key: str, event_json: str, correlation_id: str | None
    ) -> None:
        """An outcome event as the outbox kept it (hub/outbox): the same message as ``outcome``."""
        message = Message(
            event_json.encode("utf-8"),
            content_type=CONTENT_TYPE,
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=str(uuid.uuid4()),
            correlation_id=correlation_id,
        )
        await self._publish(names.OUTCOMES_EXCHANGE, routing_key, message)

    async def change(self, vendor: str, event: ChangeEvent) -> None:
        """A change event for ``vendor``, beside its outcomes (hub/change_events): typed
        ``change.v1``, its message id the event's id."""
        message = Message(
            event.to_json().encode("utf-8"),
            content_type=CONTENT_TYPE,
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=event.event_id,
            type=CHANGE_TYPE,
        )
        await self._publish(names.OUTCOMES_EXCHANGE, event.routing_key(vendor), message)

    async def dead_letter(self, delivery: Delivery, headers: dict[str, FieldValue]) -> None:
        """The original body and properties, with the hub's headers added. The vendor's own
        ``x-hub-*`` headers are dropped: on a dead letter, those are trusted as the hub's."""
        kept = delivery.properties
        vendors = {
            name: value
            for name, value in kept.headers.items()
            if not name.startswith(names.HEADER_PREFIX)
        }
        message = Message(
            delivery.body,
            content_type=kept.content_type,
            content_encoding=kept.content_encoding,
            headers={**vendors, **headers},
            delivery_mode=DeliveryMode.PERSISTENT,
            priority=kept.priority,
            correlation_id=kept.correlation_id,
            reply_to=kept.reply_to,
            message_id=kept.message_id or str(uuid.uuid4()),
            timestamp=kept.timestamp,
            type=kept.type,
            app_id=kept.app_id,
        )
        routing_key = names.dead_letter_key(delivery.office)
        await self._publish(names.DEAD_LETTER_EXCHANGE, routing_key, message)

    async def _publish(self, exchange_name: str, routing_key: str, message: Message) -> None:
        exchange = await self._channel.get_exchange(exchange_name, ensure=False)
        try:
            async with asyncio.timeout(self._confirm_timeout_s):
                confirmation = await exchange.publish(message, routing_key, mandatory=True)
        except PUBLISH_FAILURES as exc:
            failure = f"publish to {exchange_name} failed ({type(exc).__name__})"
            raise PublishFailed(failure) from exc
        if not isinstance(confirmation, Basic.Ack):  # a return, when returns do not raise
            raise PublishFailed(f"publish to {exchange_name} was not confirmed")


# Shielded work -----------------------------------------------------------------------------


class ShieldedTasks:
    """Work a stopping worker must not cut in half (a finish, an ack, a park): each piece runs
    as its own task under ``asyncio.shield``, so cancelling the lane that awaits it leaves it
    running; the worker waits for what is still running before it closes the connection."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    async def run(self, work: Coroutine[Any, Any, _T]) -> _T:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    async def wait(self, timeout_s: float) -> int:
        """Wait for the work still running; how many pieces did not finish in time."""
        if not self._running:
            return 0
        _, pending = await asyncio.wait(set(self._running), timeout=timeout_s)
        return len(pending)


# Making a final decision durable -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Finisher:
    ledger: Ledger
    publisher: Publisher
    clock: Callable[[], datetime]
    draw: Draw
    # The hub's own ledger or broker failing has no durable count: the lane holds the message
    # and tries again with this backoff on the number of holds so far.
    infra_backoff: Backoff
    outbox: OutcomeOutbox

    async def finish(self, delivery: Delivery, final: Final, *, batching_s: float) -> Final | Hold:
        """``final``, once durable; a hold when the hub's own ledger or broker failed."""
        try:
            await self._make_durable(delivery, final, batching_s)
        except _Unfinished as failure:
            return self.infra_hold(delivery, final.intent, failure.cause, final.calls)
        except TransientError as exc:  # the ledger has the finish and its calls
            return self.infra_hold(delivery, final.intent, exc)
        return final

    def infra_hold(
        self, delivery: Delivery, identity: IntentIdentity, exc: Exception,
        unrecorded: tuple[ApiCallRecord, ...] = (),
    ) -> Hold:
        """The hub's own ledger or broker failed: the lane pauses, holding the message (nothing
        is acked or dead-lettered for it), and tries again later; ``unrecorded``: the calls a
        failed finish did not record, for the next run to record."""
        delay_s = self.infra_backoff.delay_s(delivery.held + 1, self.draw)
        log.warning("hub infrastructure failed (%s); retrying in %.1f s", exc, delay_s,
                    extra=identity.log_fields())
        return Hold(intent=identity, cause=HoldCause.HUB, delay_s=delay_s, unrecorded=unrecorded)

    async def _make_durable(self, delivery: Delivery, final: Final, batching_s: float) -> None:
        decided_at = self.clock()
        event = outcome_event(final, decided_at=decided_at)
        try:
            if final.dead_lettered:
                headers = dead_letter_headers(final, dead_lettered_at=decided_at)
                await self.publisher.dead_letter(delivery, headers)
            finished = final.duplicate or await self._finish(final, event, batching_s)
        except TransientError as exc:
            raise _Unfinished(exc) from exc
        if not finished:
            # Another delivery finished it first; its outcome is the one that stands.
            log.warning("intent already finished elsewhere", extra=final.intent.log_fields())
            return
        if event is not None:
            await self._tell(event, final)

    async def _tell(self, event: OutcomeEvent, final: Final) -> None:
        """Publish the outcome, or keep it in the outbox: behind its vendor's waiting ones (so
        they are not overtaken), or when the broker refuses it. Only a failed keep raises."""
        intent_id = final.intent.intent_id
        if self.outbox.has_waiting(event.vendor):
            await self.outbox.keep(event, intent_id=intent_id, error=None)
            return
        try:
            await self.publisher.outcome(event)
        except PublishFailed as exc:
            await self.outbox.keep(event, intent_id=intent_id, error=str(exc))
            log.warning("outcome event not published (%s); kept in the outbox for its vendor",
                        exc, extra=final.intent.log_fields())

    async def _finish(self, final: Final, event: OutcomeEvent | None, batching_s: float) -> bool:
        """The ledger's result; True too when there is no ledger row (refused before a claim)."""
        intent_id = final.intent.intent_id
        if intent_id is None:
            return True
        return await self.ledger.finish(
            intent_id, finish_of(final, event), batching_s=batching_s
        )


class _Unfinished(Exception):
    """The decision's ledger record was not made (its calls with it)."""

    def __init__(self, cause: TransientError) -> None:
        super().__init__(str(cause))
        self.cause = cause
