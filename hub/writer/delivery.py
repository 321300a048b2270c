"""One message off an office queue, decoded once by the consumer: nothing past it reads aio-pika."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from aio_pika.abc import AbstractIncomingMessage, DeliveryMode, FieldValue

from hub.ledger import ApiCallRecord


@dataclass(frozen=True, kw_only=True)
class KeptProperties:
    """The message's AMQP properties a dead letter keeps. ``user_id`` is not among them: the
    broker refuses a publish whose user_id is not the hub's own, so the vendor travels in a
    header instead; ``expiration`` neither, or the dead letter would expire in ``hub.dead``."""

    content_type: str | None = None
    content_encoding: str | None = None
    headers: Mapping[str, FieldValue] = field(default_factory=dict)
    delivery_mode: DeliveryMode | int | None = None
    priority: int | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    message_id: str | None = None
    timestamp: datetime | None = None
    type: str | None = None
    app_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Delivery:
    office: str  # the queue's office: the only office this delivery may act on
    body: bytes
    user_id: str | None  # checked by the broker against the publisher's login
    exchange: str  # hub.intents from a vendor, hub.replay from an operator (hub dlq replay)
    redelivered: bool
    properties: KeptProperties
    held: int = 0  # how often the lane has already re-run this delivery in place
    crashes: int = 0  # how often the writer failed on it unexpectedly (a bug), run after run
    # Open Dental calls a run made whose ledger record failed with its finish: the next final
    # verdict records them, so every call is in the ledger.
    unrecorded: tuple[ApiCallRecord, ...] = ()

    @property
    def message_id(self) -> str | None:
        return self.properties.message_id


def delivery_of(message: AbstractIncomingMessage, office: str) -> Delivery:
    """The consumer's only decoding step."""
    return Delivery(
        office=office,
        body=message.body,
        user_id=message.user_id,
        exchange=message.exchange or "",
        redelivered=bool(message.redelivered),
        properties=KeptProperties(
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            headers=dict(message.headers or {}),
            delivery_mode=message.delivery_mode,
            priority=message.priority,
            correlation_id=message.correlation_id,
            reply_to=message.reply_to,
            message_id=message.message_id,
            timestamp=message.timestamp,
            type=message.type,
            app_id=message.app_id,
        ),
    )
