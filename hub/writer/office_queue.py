"""An office queue as its lane sees it: the consumer on a channel of the lane's own, the
deliveries in hand, each with when it reached the lane (its age decides whether it may wait in
place: hub/writer/lanes.py), each decoded once into a ``Delivery`` (nothing past this module
reads aio-pika), and the one ack.

Letting the queue go closes the channel: the broker then takes back every delivery in hand and
the consumer in one step, and gives them, first and in their order, to whichever consumer it
activates next. A nack followed by a cancel would do neither: the broker could deliver a message
handed back to this same consumer again, or, after a cancel, give a later message to another
consumer before the handed-back one returns.

``active`` says that a delivery arrived since the consumer was registered (or its channel was
restored): with single active consumer only the active writer gets any. ``checked``: the lane
has since asked the database whether another writer holds the office (its first delivery may
be the broker's hand-over).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiormq
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    DeliveryMode,
    FieldValue,
)

from hub.ledger import ApiCallRecord

log = logging.getLogger(__name__)

ACK_FAILURES = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,  # a RuntimeError: the channel is closed
    ConnectionError,
)

# Opens the lane's channel and declares its office queue on it.
OpenQueue = Callable[[], Awaitable[tuple[AbstractRobustChannel, AbstractQueue]]]


@dataclass(frozen=True, kw_only=True)
class InHand:
    message: AbstractIncomingMessage
    received_s: float  # monotonic: when it reached the lane

    @property
    def stale(self) -> bool:
        """Delivered on a channel that has since closed: the broker has it back, and an ack
        here could not reach it."""
        try:
            return self.message.channel.is_closed  # raises once the channel is closed
        except aiormq.exceptions.ChannelInvalidStateError:
            return True


class OfficeQueue:
    def __init__(self, office: str, open_queue: OpenQueue) -> None:
        self.office = office
        self._open_queue = open_queue
        self._channel: AbstractRobustChannel | None = None
        self._queue: AbstractQueue | None = None
        self._in_hand: deque[InHand] = deque()
        self._arrived = asyncio.Event()
        self._tag: str | None = None
        self.active = False
        self.checked = False

    @property
    def registered(self) -> bool:
        return self._tag is not None

    @property
    def channel(self) -> AbstractRobustChannel | None:
        return self._channel

    def waiting(self) -> int:
        return len(self._in_hand)

    async def register(self) -> None:
        """Consume the office queue; the channel's prefetch bounds what the lane holds."""
        if self._channel is None or self._queue is None:
            self._channel, self._queue = await self._open_queue()
            self._channel.reopen_callbacks.add(self._reopened)
        self.active = self.checked = False
        self._tag = await self._queue.consume(self._receive)

    async def cancel(self) -> list[InHand]:
        """Stop the broker's deliveries; returns everything in hand, in delivery order (what
        arrived before the broker confirmed the cancel included)."""
        tag, self._tag = self._tag, None
        if tag is not None and self._queue is not None:
            try:
                await self._queue.cancel(tag)
            except ACK_FAILURES as exc:  # the channel is gone, and the consumer with it
                log.warning("could not cancel the consumer (%s)", type(exc).__name__,
                            extra={"office": self.office})
        return self.take_all()

    async def let_go(self) -> int:
        """Hand every delivery in hand back to the broker, with the consumer, in one step (the
        channel closes; the next registration opens another). How many were in hand."""
        in_hand = len(self.take_all())
        channel, self._channel, self._queue, self._tag = self._channel, None, None, None
        if channel is not None:
            try:
                await channel.close()
            except ACK_FAILURES as exc:
                log.warning("could not close the lane's channel (%s)", type(exc).__name__,
                            extra={"office": self.office})
        return in_hand

    def take_all(self) -> list[InHand]:
        """Everything in hand that may still be acked, in delivery order."""
        items = [item for item in self._in_hand if not item.stale]
        self._in_hand.clear()
        return items

    def take(self) -> InHand | None:
        while self._in_hand:
            item = self._in_hand.popleft()
            if not item.stale:
                return item
        self._arrived.clear()
        return None

    def put_back(self, item: InHand) -> None:
        """Back at the head: the lane did not start it."""
        self._in_hand.appendleft(item)
        self._arrived.set()

    async def arrival(self) -> None:
        """Until something is in hand."""
        if not self._in_hand:
            self._arrived.clear()
            await self._arrived.wait()

    async def _receive(self, message: AbstractIncomingMessage) -> None:
        self.active = True
        self._in_hand.append(InHand(message=message, received_s=time.monotonic()))
        self._arrived.set()

    def _reopened(self, *_: Any) -> None:
        # The channel came back and its consumer with it; meanwhile another writer may have
        # become the office's active consumer, or stood down.
        self.active = self.checked = False


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
    # decision records them, so every call is in the ledger.
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


async def ack(
    message: AbstractIncomingMessage, office: str, on_failure: Callable[[], None]
) -> None:
    """The one ack: a final decision is durable, or the delivery is parked. One that fails (the
    channel was lost) is logged and reported, never raised: the broker has the message back."""
    try:
        await message.ack()
    except ACK_FAILURES as exc:
        on_failure()
        log.warning("could not ack the message (%s); the broker will deliver it again",
                    type(exc).__name__, extra={"office": office})
