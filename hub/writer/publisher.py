"""The writer's two publishes, outcome events and dead letters, each confirmed by the broker.

Every publish is ``mandatory``, waits for its confirm with a timeout, and treats a nack, a
return (unroutable) or a broken channel as ``PublishFailed``: a dead letter's holds its delivery
unacked; an outcome's sends the event to the outbox (hub/outbox) and the delivery is acked.
aiormq matches a returned message to its publish by ``message_id``, so every publish has one.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Protocol

import aiormq
from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractChannel, FieldValue
from pamqp.commands import Basic

from contracts import OutcomeEvent
from contracts.amqp import CONTENT_TYPE
from hub import names
from hub.errors import TransientError
from hub.writer.delivery import Delivery

PUBLISH_FAILURES = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,  # a RuntimeError: the channel is closed
    ConnectionError,
    TimeoutError,
)


class PublishFailed(TransientError):
    """The broker did not confirm a publish: nacked, returned, timed out or disconnected."""


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
