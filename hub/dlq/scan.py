"""Read the dead-letter queue without losing or reordering it.

``hub.dead`` is a quorum queue without single active consumer, so ``basic.get`` works. A scan
gets messages one by one with manual ack and holds every one it read, matched or not, until it
ends. RabbitMQ 3.10's quorum queues put a message given back (``nack(requeue=True)``) at the
BACK of the queue, so a scan reads on to the end of the queue even past ``--limit`` matches, and
on exit gives back everything it did not remove in the order it read it: the queue ends in its
original order. Only a scan cut short by its count or time bound leaves the queue rotated (what
it read now follows what it did not), and says so. A nack counts as a delivery in a quorum
queue, which is harmless here: ``hub.dead`` has no delivery limit
(``hub.topology.quorum_queue_arguments``).

Only the caller removes a message (``Scan.remove``: ack), and only after its replacement is safe:
a replay's publish is confirmed, a purge's audit row committed. If the connection fails, the
broker requeues whatever it held: nothing is lost, though the order may rotate.

A second ``hub dlq`` at the same time cannot take what this one holds: it sees fewer messages,
neither loses any, and the two give back their messages interleaved.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from hub.dlq.broker import BROKER_FAILURES, opening
from hub.dlq.constants import GET_TIMEOUT_S
from hub.dlq.filters import DeadLetterFilter
from hub.dlq.letters import dead_letter
from hub.dlq.model import DeadLetter, DlqError, ScanBounds, ScanEnd, ScanSummary


@dataclass(frozen=True, kw_only=True)
class Held:
    """A matching dead letter and the delivery that holds it on the queue."""

    letter: DeadLetter
    message: AbstractIncomingMessage


@dataclass(frozen=True, kw_only=True)
class Scan:
    matches: list[Held]  # at most the filter's limit, in queue order
    summary: ScanSummary

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
    with opening("queue", name):
        return await channel.get_queue(name, ensure=True)


async def _read(
    queue: AbstractQueue,
    wanted: DeadLetterFilter,
    bounds: ScanBounds,
    read: list[AbstractIncomingMessage],
) -> Scan:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bounds.max_seconds
    matches: list[Held] = []
    unlisted = 0
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
        if not wanted.matches(letter):
            continue
        if len(matches) < wanted.limit:
            matches.append(Held(letter=letter, message=message))
        else:
            unlisted += 1
    summary = ScanSummary(scanned=len(read), unlisted=unlisted, end=end)
    return Scan(matches=matches, summary=summary)


async def _get(queue: AbstractQueue) -> AbstractIncomingMessage | None:
    """The next ready message, held unacked; ``None`` at the end of the queue."""
    try:
        return await queue.get(no_ack=False, fail=False, timeout=GET_TIMEOUT_S)
    except BROKER_FAILURES as exc:
        # A get that timed out may still deliver: that message is held until the connection
        # closes, and then requeued by the broker.
        raise DlqError(f"reading {queue.name} failed ({type(exc).__name__})") from exc


async def _give_back(channel: AbstractChannel, read: list[AbstractIncomingMessage]) -> None:
    """Give back every message not removed, in the order read: behind any message that came
    in meanwhile, and in the queue's order once the scan read to its end."""
    if channel.is_closed:
        return
    try:
        for message in read:
            if not message.processed:
                await message.nack(requeue=True)
    except BROKER_FAILURES:
        # The channel failed mid-way: the broker requeues what it still held when it closes.
        return
