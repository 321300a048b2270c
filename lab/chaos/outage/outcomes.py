"""The outcome events one vendor receives, read from its queue as the vendor would, all run long:
the vendor whose outcome queue is deleted mid-run, so the run can tell which of its decided
intents it was never told of.

Events are taken with automatic acks: the watch keeps nothing unacked, so the broker never
times it out, and a deleted queue loses no event already delivered. The broker cancels the
consumer when the queue is deleted; ``consume`` subscribes again once it is back.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage
from pydantic import SecretStr, ValidationError

from contracts import OutcomeEvent
from hub import names

log = logging.getLogger(__name__)


class OutcomeWatch:
    def __init__(self, vendor: str, broker_url: SecretStr) -> None:
        self.vendor = vendor
        self._url = broker_url
        self._connection: AbstractConnection | None = None
        self.received: set[str] = set()  # idempotency keys with at least one event
        self.events = 0

    async def __aenter__(self) -> Self:
        # Not robust: a reconnect would subscribe to a queue that may be gone.
        self._connection = await aio_pika.connect(self._url.get_secret_value())
        try:
            await self.consume()
        except BaseException:
            await self._connection.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def consume(self) -> None:
        """Subscribe to the vendor's outcome queue (again)."""
        assert self._connection is not None, "use `async with OutcomeWatch(...)`"
        channel = await self._connection.channel()
        queue = await channel.declare_queue(names.outcome_queue(self.vendor), passive=True)
        await queue.consume(self._on_message, no_ack=True)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.events += 1
        try:
            event = OutcomeEvent.from_json(message.body)
        except ValidationError:
            log.error("an outcome message that is not an outcome event",
                      extra={"routing_key": message.routing_key})
            return
        self.received.add(event.idempotency_key)
