"""Replay: each matched dead letter goes back to its office queue as its vendor sent it.

It is published to ``hub.replay``, routed like ``hub.intents`` but writable only by the hub's own
user, so the writer knows an operator sent it: it reopens the intent if it ended rejected or dead
(same payload only) and processes it again. It keeps its body and original properties,
``user_id`` (the vendor) and ``message_id`` included, so the writer validates and authorizes it
as the vendor's and answers an intent that was applied meanwhile as a duplicate: replaying it
changes nothing. Only the
dead-letter bookkeeping headers (the writer's ``x-hub-*``, the broker's ``x-death`` family) are
dropped. The writer cannot keep a vendor's ``user_id`` on its dead letters without the
impersonator tag, so it moves it to ``x-hub-vendor``; replay puts it back. A message leaves
``hub.dead`` only after the broker confirmed its re-publish.

RabbitMQ lets a connection publish with another user's ``user_id`` only if its user has the
``impersonator`` tag (``scripts/setup-broker.sh`` gives it to the hub's user). Without the tag
the broker closes the publishing channel; the replay stops with ``ImpersonationRefused`` and every
message not yet replayed stays on the queue, in its order.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from enum import StrEnum

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractExchange, FieldValue
from pamqp.commands import Basic

from hub import names
from hub.dlq.broker import BROKER_FAILURES, opening
from hub.dlq.constants import (
    BROKER_DEAD_LETTER_PREFIXES,
    CONFIRM_TIMEOUT_S,
    WRITER_HEADER_PREFIX,
    X_DEATH,
    X_DELIVERY_COUNT,
)
from hub.dlq.model import DeadLetter, DlqError, ImpersonationRefused
from hub.dlq.scan import Held, Scan


class ReplayStatus(StrEnum):
    REPLAYED = "replayed"  # confirmed on hub.intents and removed from the dead-letter queue
    WOULD_REPLAY = "would_replay"  # --dry-run
    NO_ROUTE = "no_route"  # office or contract unknown: kept
    UNROUTABLE = "unroutable"  # no queue is bound for its key (returned): kept
    REFUSED = "refused"  # the broker nacked the publish (e.g. a full office queue): kept


@dataclass(frozen=True, kw_only=True)
class ReplayResult:
    letter: DeadLetter
    status: ReplayStatus
    routing_key: str | None


@dataclass(kw_only=True)
class ReplayProgress:
    """A replay watched and stoppable from elsewhere while it runs (the console's bulk replay):
    each result as it lands, and a cancel that takes effect before the next letter. What was
    replayed stays replayed; what was not stays on the queue, in its order."""

    total: int | None = None  # the matches, once the scan has read them
    results: list[ReplayResult] = field(default_factory=list)
    cancelled_by: str | None = None
    _cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    def cancel(self, by: str) -> None:
        if self.cancelled_by is None:
            self.cancelled_by = by
        self._cancelled.set()

    async def pause(self, gap_s: float) -> None:
        """Wait ``gap_s`` between two letters, or less if cancelled meanwhile."""
        if gap_s > 0 and not self._cancelled.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cancelled.wait(), gap_s)

    @property
    def replayed(self) -> int:
        return _count_replayed(self.results)


def replay_key(letter: DeadLetter) -> str | None:
    if letter.office is None or letter.contract is None:
        return None
    return names.intent_key(letter.office, letter.contract)


def replay_message(held: Held) -> aio_pika.Message:
    """The message as the vendor published it: same body and properties, minus the dead-letter
    headers; ``user_id`` back from ``x-hub-vendor`` where the writer had to move it there."""
    message = held.message
    headers: dict[str, FieldValue] = {
        name: value
        for name, value in (message.headers or {}).items()
        if not _is_dead_letter_header(name)
    }
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=message.delivery_mode,
        priority=message.priority,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        expiration=message.expiration,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        user_id=message.user_id or held.letter.vendor,
        app_id=message.app_id,
    )


def planned(held: Held) -> ReplayResult:
    """What a replay would do with it (``--dry-run``)."""
    key = replay_key(held.letter)
    status = ReplayStatus.NO_ROUTE if key is None else ReplayStatus.WOULD_REPLAY
    return ReplayResult(letter=held.letter, status=status, routing_key=key)


async def replay_all(
    channel: AbstractChannel, exchange_name: str, scan: Scan, hub_user: str,
    progress: ReplayProgress, gap_s: float = 0.0,
) -> list[ReplayResult]:
    """Replay the scan's matches one by one, in queue order (so each office's in its order), on
    a confirming ``channel``, ``gap_s`` apart, until ``progress`` is cancelled."""
    exchange = await _exchange(channel, exchange_name)
    results = progress.results
    for number, held in enumerate(scan.matches):
        if number:
            await progress.pause(gap_s)
        if progress.cancelled_by is not None:
            break
        try:
            results.append(await _replay_one(exchange, scan, held))
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            raise _refusal(held.letter, hub_user, results, exc) from exc
        except BROKER_FAILURES as exc:
            raise DlqError(
                f"replay stopped at message {held.letter.position} ({type(exc).__name__}) after "
                f"{_count_replayed(results)} replayed; it and the rest stay on the queue"
            ) from exc
    return results


async def _replay_one(exchange: AbstractExchange, scan: Scan, held: Held) -> ReplayResult:
    key = replay_key(held.letter)
    if key is None:
        return ReplayResult(letter=held.letter, status=ReplayStatus.NO_ROUTE, routing_key=None)
    try:
        confirmation = await exchange.publish(
            replay_message(held), key, mandatory=True, timeout=CONFIRM_TIMEOUT_S
        )
    except aiormq.exceptions.DeliveryError:
        return ReplayResult(letter=held.letter, status=ReplayStatus.REFUSED, routing_key=key)
    if not isinstance(confirmation, Basic.Ack):
        return ReplayResult(letter=held.letter, status=ReplayStatus.UNROUTABLE, routing_key=key)
    await scan.remove(held)
    return ReplayResult(letter=held.letter, status=ReplayStatus.REPLAYED, routing_key=key)


async def _exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    with opening("exchange", name):
        return await channel.get_exchange(name, ensure=True)


def _refusal(
    letter: DeadLetter, hub_user: str, done: list[ReplayResult], exc: Exception
) -> DlqError:
    replayed = _count_replayed(done)
    if "user_id" not in str(exc):
        return DlqError(
            f"the broker refused the replay of message {letter.position} after {replayed} "
            f"replayed ({exc}); it and the rest stay on the queue"
        )
    return ImpersonationRefused(
        f"the broker refused to let the hub's user {hub_user!r} publish as vendor "
        f"{letter.vendor!r}: replay needs RabbitMQ's impersonator tag on {hub_user!r} "
        f"(scripts/setup-broker.sh adds it). {replayed} replayed before; message "
        f"{letter.position} and the rest stay on the queue"
    )


def _count_replayed(results: list[ReplayResult]) -> int:
    return sum(result.status is ReplayStatus.REPLAYED for result in results)


def _is_dead_letter_header(name: str) -> bool:
    return (
        name.startswith(WRITER_HEADER_PREFIX)
        or name in (X_DEATH, X_DELIVERY_COUNT)
        or name.startswith(BROKER_DEAD_LETTER_PREFIXES)
    )
