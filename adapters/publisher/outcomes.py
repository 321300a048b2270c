"""A vendor's outcome events, and change events when an office agreed it may read a table, read
from its own queue ``hub.outcomes.<vendor>``.

``outcome_events`` yields outcome events only: a change event met there is logged and dropped
(a vendor with a read agreement reads ``hub_events`` instead, which yields both, told apart by
the message's ``type``). Each event is acked after the caller's loop body returns. An event whose
body raised, or that the loop broke out of, is not acked: the broker delivers it again (to this
or a later subscription), so a vendor's handling must be idempotent, e.g. by ``idempotency_key``
and ``status`` (a change event by ``event_id``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

import aiormq
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from pydantic import ValidationError

from adapters.publisher.errors import PublisherError
from contracts import CHANGE_TYPE, ChangeEvent, OutcomeEvent
from hub.names import outcome_queue

log = logging.getLogger(__name__)
_E = TypeVar("_E", OutcomeEvent, OutcomeEvent | ChangeEvent)


def outcome_events(
    connection: AbstractRobustConnection, vendor: str, *, prefetch: int
) -> AsyncGenerator[OutcomeEvent, None]:
    """Every outcome event for ``vendor``, waiting for new ones; on its own channel, closed when
    the iteration ends, which hands unacked events back to the broker."""
    return _events(connection, vendor, prefetch, _read_outcome)


def hub_events(
    connection: AbstractRobustConnection, vendor: str, *, prefetch: int
) -> AsyncGenerator[OutcomeEvent | ChangeEvent, None]:
    """Every outcome and change event for ``vendor``, as ``outcome_events`` reads outcomes."""
    return _events(connection, vendor, prefetch, _read_any)


async def _events(
    connection: AbstractRobustConnection, vendor: str, prefetch: int,
    read: Callable[[AbstractIncomingMessage], Awaitable[_E | None]],
) -> AsyncGenerator[_E, None]:
    channel = await connection.channel()
    try:
        await channel.set_qos(prefetch_count=prefetch)
        queue_name = outcome_queue(vendor)
        try:
            queue = await channel.declare_queue(queue_name, passive=True)
        except aiormq.exceptions.ChannelClosed as exc:
            raise PublisherError(
                f"cannot read {queue_name}: {exc} (`hub vendor add {vendor}` creates it)"
            ) from exc
        async with queue.iterator() as messages:
            async for message in messages:
                event = await read(message)
                if event is not None:
                    yield event
                    await _ack(message)
    finally:
        await channel.close()


async def _read_outcome(message: AbstractIncomingMessage) -> OutcomeEvent | None:
    if message.type == CHANGE_TYPE:
        # Only a vendor with a read agreement receives these; its code reads hub_events.
        log.warning(
            "dropped a change event: read the queue with hub_events to receive them",
            extra={"event": "change_event_dropped", "routing_key": message.routing_key},
        )
        await message.reject()
        return None
    event = await _read_any(message)
    assert event is None or isinstance(event, OutcomeEvent)  # a change event returned above
    return event


async def _read_any(message: AbstractIncomingMessage) -> OutcomeEvent | ChangeEvent | None:
    try:
        if message.type == CHANGE_TYPE:
            return ChangeEvent.from_json(message.body)
        return OutcomeEvent.from_json(message.body)
    except ValidationError:
        # Not an event of this contract: a hub bug. Requeueing would loop on it forever.
        log.error(
            "dropped an outcome message that is not an outcome event",
            extra={"event": "outcome_unreadable", "routing_key": message.routing_key},
        )
        await message.reject()
        return None


async def _ack(message: AbstractIncomingMessage) -> None:
    try:
        await message.ack()
    except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError) as exc:
        # The channel that delivered it is gone; the broker will deliver the event again.
        log.warning(
            "could not ack an outcome event; it will be delivered again",
            extra={
                "event": "outcome_ack_lost",
                "routing_key": message.routing_key,
                "error": type(exc).__name__,
            },
        )
