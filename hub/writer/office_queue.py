"""A lane's registration on its office queue: the consumer on the lane's own channel, and the
deliveries in hand, each with when it reached the lane (its age decides whether it may wait in
place: hub/writer/lanes.py).

``active`` says that a delivery arrived since the consumer was registered (or its channel was
restored): with single active consumer only the active writer gets any, so the lane knows it
is the office's active one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiormq
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustChannel

from hub.writer.acking import ACK_FAILURES

log = logging.getLogger(__name__)


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
    def __init__(self, office: str, channel: AbstractRobustChannel, queue: AbstractQueue) -> None:
        self.office = office
        self.channel = channel
        self._queue = queue
        self._in_hand: deque[InHand] = deque()
        self._arrived = asyncio.Event()
        self._tag: str | None = None
        self.active = False
        channel.reopen_callbacks.add(self._reopened)

    @property
    def registered(self) -> bool:
        return self._tag is not None

    def waiting(self) -> int:
        return len(self._in_hand)

    async def register(self) -> None:
        """Consume the office queue; the channel's prefetch bounds what the lane holds."""
        self.active = False
        self._tag = await self._queue.consume(self._receive)

    async def cancel(self) -> list[InHand]:
        """Stop the broker's deliveries; returns everything in hand, in delivery order (what
        arrived before the broker confirmed the cancel included)."""
        tag, self._tag = self._tag, None
        if tag is not None:
            try:
                await self._queue.cancel(tag)
            except ACK_FAILURES as exc:  # the channel is gone, and the consumer with it
                log.warning("could not cancel the consumer (%s)", type(exc).__name__,
                            extra={"office": self.office})
        return self.take_all()

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
        # become the office's active consumer.
        self.active = False
