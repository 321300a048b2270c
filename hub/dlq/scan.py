"""Read the dead-letter queue without losing or reordering it.

``hub.dead`` is a quorum queue without single active consumer, so ``basic.get`` works. A scan
gets messages one by one with manual ack and holds every one it read, matched or not, until it
ends: a message given back while the scan still reads would be handed to it again at once (a
quorum queue serves returned messages first). It stops at the end of the queue, at ``--limit``
matches, or at its count or time bound.

Only the caller removes a message (``Scan.remove``: ack), and only after its replacement is safe:
a replay's publish is confirmed, a purge's audit row committed. On exit every message still held
goes back with ``nack(requeue=True)`` in the order it was read; a quorum queue returns messages
ahead of the rest in the order they come back, so the queue keeps its order. A nack counts as a
delivery in a quorum queue, which is harmless here: ``hub.dead`` has no delivery limit
(``hub.topology.quorum_queue_arguments``). If the connection fails instead, the broker requeues
what it held.

A second ``hub dlq`` at the same time cannot take what this one holds: it sees fewer messages,
and neither loses any.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiormq
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from hub.dlq.broker import BROKER_FAILURES
from hub.dlq.constants import GET_TIMEOUT_S
from hub.dlq.filters import DeadLetterFilter
from hub.dlq.letters import dead_letter
from hub.dlq.model import DeadLetter, DlqError, ScanBounds, ScanEnd


@dataclass(frozen=True, kw_only=True)
class Held:
    """A matching dead letter and the delivery that holds it on the queue."""

    letter: DeadLetter
    message: AbstractIncomingMessage


@dataclass(frozen=True, kw_only=True)
class Scan:
    matches: list[Held]
    scanned: int  # messages read, matched or not
    end: ScanEnd

    async def remove(self, held: Held) -> None:
        """Take the message off the queue for good (ack); call only once it is replaced."""
        try:
            await held.message.ack()
        except BROKER_FAILURES as exc:
            raise DlqError(
                f"the broker connection failed before message {held.letter.position} was removed;"
                " it is back on the queue"
            ) from exc


@asynccontextmanager
async def held_scan(
    channel: AbstractChannel, queue_name: str, wanted: DeadLetterFilter, bounds: ScanBounds
) -> AsyncIterator[Scan]:
    """Read ``queue_name`` and hold what was read; give back what was not removed on exit."""
    queue = await _queue(channel, queue_name)
    read: list[AbstractIncomingMessage] = []
    try:
        yield await _read(queue, wanted, bounds, read)
    finally:
        await _give_back(channel, read)


async def _queue(channel: AbstractChannel, name: str) -> AbstractQueue:
    try:
        return await channel.get_queue(name, ensure=True)
    except aiormq.exceptions.ChannelNotFoundEntity as exc:
        raise DlqError(f"no queue {name} on the broker (hub topology declares it)") from exc
    except BROKER_FAILURES as exc:
        raise DlqError(f"cannot open the queue {name} ({type(exc).__name__})") from exc


async def _read(
    queue: AbstractQueue,
    wanted: DeadLetterFilter,
    bounds: ScanBounds,
    read: list[AbstractIncomingMessage],
) -> Scan:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bounds.max_seconds
    matches: list[Held] = []
    end = ScanEnd.MAX_MESSAGES
    while len(read) < bounds.max_messages:
        if loop.time() >= deadline:
            end = ScanEnd.MAX_TIME
            break
        message = await _get(queue)
        if message is None:
            end = ScanEnd.END
            break
        read.append(message)
        letter = dead_letter(message, len(read) - 1)
        if wanted.matches(letter):
            matches.append(Held(letter=letter, message=message))
            if len(matches) >= wanted.limit:
                end = ScanEnd.LIMIT
                break
    return Scan(matches=matches, scanned=len(read), end=end)


async def _get(queue: AbstractQueue) -> AbstractIncomingMessage | None:
    """The next ready message, held unacked; ``None`` at the end of the queue."""
    try:
        return await queue.get(no_ack=False, fail=False, timeout=GET_TIMEOUT_S)
    except BROKER_FAILURES as exc:
        # A get that timed out may still deliver: that message is held until the connection
        # closes, and then requeued by the broker.
        raise DlqError(f"reading {queue.name} failed ({type(exc).__name__})") from exc


async def _give_back(channel: AbstractChannel, read: list[AbstractIncomingMessage]) -> None:
    """Return every message not removed, in the order read (the broker requeues on close)."""
    if channel.is_closed:
        return
    try:
        for message in read:
            if not message.processed:
                await message.nack(requeue=True)
    except BROKER_FAILURES:
        # The channel failed mid-way: the broker requeues what it still held when it closes.
        return
