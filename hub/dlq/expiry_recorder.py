"""The writer's recorder of expired dead letters: ``hub.dead.expired`` drained into the ledger.

Each message there is a dead letter that outlived ``hub.dead``'s retention (hub/dlq/retention.py).
The recorder writes its ``Expiry`` (ids, never the body) and commits, then acks: the body is
gone and the record stays. Every writer runs one, competing for the queue; the record's unique
key makes a redelivery, or a second writer, add nothing. When the hub database refuses, the
message goes back to the queue after a pause (the broker keeps it; nothing is acked unrecorded).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiormq
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from hub.dlq.expiries import Expiry, MySqlExpiries, expiry_of
from hub.dlq.retention import DEFAULT_RETENTION_NAMES, RetentionNames
from hub.errors import HubError
from hub.observability import HubMetrics
from hub.settings import HubSettings
from hub.topology import declare_expiry_route

log = logging.getLogger(__name__)

PREFETCH = 20  # expired letters in hand at once; each is one short insert
RETRY_PAUSE_S = 5.0  # after the hub database refused, before the message goes back
_CHANNEL_GONE = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,  # a RuntimeError: the channel is closed
    ConnectionError,
)


class ExpiryRecorder:
    """Records one expired message, then acks it; never acks one it could not record."""

    def __init__(
        self, store: MySqlExpiries, metrics: HubMetrics, *, dead_queue: str,
        retry_pause_s: float = RETRY_PAUSE_S,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._dead_queue = dead_queue
        self._retry_pause_s = retry_pause_s

    async def __call__(self, message: AbstractIncomingMessage) -> None:
        expiry = expiry_of(message, self._dead_queue)
        try:
            new = await self._store.record(expiry)
        except HubError as exc:
            log.warning("could not record the expiry of %s (%s); it waits in the expiry queue",
                        _named(expiry), exc)
            await asyncio.sleep(self._retry_pause_s)
            await _settle(message, recorded=False)
            return
        if new:
            self._metrics.dead_letter_expired(expiry.office or "", expiry.vendor or "")
            log.info("recorded the expiry of %s from %s", _named(expiry), expiry.queue)
        await _settle(message, recorded=True)


@asynccontextmanager
async def running_expiry_recorder(
    settings: HubSettings, connection: AbstractRobustConnection, metrics: HubMetrics,
    where: RetentionNames = DEFAULT_RETENTION_NAMES, *, retry_pause_s: float = RETRY_PAUSE_S,
) -> AsyncIterator[ExpiryRecorder]:
    """The recorder consuming ``where.expired_queue`` (declared here, idempotently) on a
    channel of its own, until the block ends."""
    store = await MySqlExpiries.open(settings.ledger_db, on_query=metrics.ledger_query)
    try:
        recorder = ExpiryRecorder(
            store, metrics, dead_queue=where.dead_queue, retry_pause_s=retry_pause_s
        )
        channel = await connection.channel()
        try:
            await channel.set_qos(prefetch_count=PREFETCH)
            queue = await declare_expiry_route(channel, where)
            tag = await queue.consume(recorder)
            yield recorder
            try:
                await queue.cancel(tag)
            except _CHANNEL_GONE as exc:  # the channel is gone, and the consumer with it
                log.warning("could not cancel the expiry recorder's consumer (%s)",
                            type(exc).__name__)
        finally:
            await channel.close()
    finally:
        await store.close()


async def _settle(message: AbstractIncomingMessage, *, recorded: bool) -> None:
    """Ack a recorded message, hand back one that is not. Either on a channel that closed
    meanwhile is lost, not an error: the broker delivers the message again, and its record is
    already there (or it is tried again)."""
    try:
        if recorded:
            await message.ack()
        else:
            await message.nack(requeue=True)
    except _CHANNEL_GONE as exc:
        log.warning("could not %s an expired dead letter (%s); the broker delivers it again",
                    "ack" if recorded else "hand back", type(exc).__name__)


def _named(expiry: Expiry) -> str:
    """The ids of an expired letter, for the log: never its body or any value of it."""
    return (f"intent {expiry.intent_id or '-'} (vendor {expiry.vendor or '-'}, office "
            f"{expiry.office or '-'}, message {expiry.message_id or '-'}, reason "
            f"{expiry.reason or '-'})")
