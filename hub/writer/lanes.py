"""One lane per office: its queue consumed with the channel's prefetch, its messages processed
one at a time in delivery order, its waits (retry backoff, pauses) its own.

A held message stays unacked while its lane waits and then runs it again in place: nacking it
would let the messages prefetched behind it overtake it. Stopping leaves whatever was not
finished unacked; closing the channel hands it back to the queue in delivery order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import aiormq
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from hub.errors import LedgerError
from hub.observability import LaneProgress
from hub.writer.acking import ACK_FAILURES, Action, act
from hub.writer.admission import Admission
from hub.writer.bookkeeping import Bookkeeping
from hub.writer.delivery import Delivery, delivery_of
from hub.writer.metrics import WriterMetrics
from hub.writer.verdict import About, Decision, HoldCause, Outcome
from hub.writer.wrappers import Process

log = logging.getLogger(__name__)


class Lane:
    def __init__(
        self,
        *,
        office: str,
        queue: AbstractQueue,
        process: Process,
        metrics: WriterMetrics,
        bookkeeping: Bookkeeping,
        stopping: asyncio.Event,
        gate: Admission,
        progress: LaneProgress,
    ) -> None:
        self.office = office
        self._queue = queue
        self._process = process
        self._metrics = metrics
        self._bookkeeping = bookkeeping
        self._stopping = stopping
        self._gate = gate  # which delivered message runs next, under operators' pauses
        self._progress = progress  # /healthz: busy while it runs a delivery, idle while it waits
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._consumer_tag: str | None = None

    async def start(self) -> None:
        """Consume the office's queue; the broker's prefetch bounds the inbox. On a robust
        channel the consumer comes back after a reconnect, into the same inbox."""
        self._consumer_tag = await self._queue.consume(self._inbox.put)
        self._metrics.lane_running(self.office)

    async def cancel(self) -> None:
        """Stop the broker's deliveries to this lane; messages it holds stay unacked."""
        tag, self._consumer_tag = self._consumer_tag, None
        if tag is None:
            return
        try:
            await self._queue.cancel(tag)
        except ACK_FAILURES as exc:  # the channel is gone: so is the consumer
            log.warning("could not cancel the consumer (%s)", type(exc).__name__,
                        extra={"office": self.office})

    async def run(self) -> None:
        """Until stopping: take the next message, settle it, take the next."""
        while (message := await self._next()) is not None:
            await self._handle(message)

    async def _next(self) -> AbstractIncomingMessage | None:
        if self._stopping.is_set():
            return None
        getting = asyncio.ensure_future(self._gate.take(self._inbox))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            getting.cancel()  # no effect once it has its message
        if self._stopping.is_set() or getting.cancelled():
            return None  # a message taken now stays unacked and goes back to the queue
        return getting.result()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        delivery = delivery_of(message, self.office)
        while not _stale(message):
            self._progress.busy(self.office)
            decision = await self._decide(delivery)
            action = await self._bookkeeping.run(act(message, decision, self._metrics))
            self._progress.idle(self.office)
            self._report(decision)
            if action is not Action.HOLD or not await self._wait(decision.delay_s):
                return
            own = decision.about.attempt if decision.sent else delivery.own_attempt
            delivery = replace(delivery, held=delivery.held + 1, own_attempt=own)

    def _report(self, decision: Decision) -> None:
        """The lane's state for its metrics: paused (and why), backing off, or running."""
        if decision.outcome is Outcome.LANE_PAUSED:
            cause = HoldCause.HUB if decision.cause is None else decision.cause
            self._metrics.lane_paused(self.office, cause.value)
            if cause is HoldCause.AUTH:
                self._metrics.auth_failure(self.office)
        elif decision.outcome is Outcome.RETRY_LATER:
            self._metrics.lane_backing_off(self.office)
        else:
            self._metrics.lane_running(self.office)

    async def _decide(self, delivery: Delivery) -> Decision:
        try:
            return await self._process(delivery)
        except LedgerError:
            raise  # the ledger refuses for good: the writer stops, nothing acked
        except Exception:
            log.exception("processing failed unexpectedly", extra={"office": self.office})
            return Decision(about=About(office=self.office), outcome=Outcome.CRASHED)

    async def _wait(self, delay_s: float) -> bool:
        """Hold for ``delay_s``: True when it passed, False when the worker began stopping."""
        try:
            async with asyncio.timeout(delay_s):
                await self._stopping.wait()
        except TimeoutError:
            return True
        return False


def _stale(message: AbstractIncomingMessage) -> bool:
    """Delivered on a channel that has since closed: the broker delivers it again on the new
    one, and an ack here could not reach it."""
    try:
        return message.channel.is_closed  # the property raises once the channel is closed
    except aiormq.exceptions.ChannelInvalidStateError:
        return True
