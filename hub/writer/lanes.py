"""One lane per office: its queue consumed on a channel of its own, its messages decided one at a
time in delivery order, its waits its own; and never a broker timer deciding for it.

RabbitMQ closes a channel that keeps a delivery unacked past ``consumer_timeout`` and counts the
hand-back toward the queue's delivery limit, so a lane keeps a delivery unacked for at most
``hold_limit_s`` (half the broker's timeout). A hold that fits waits in place: the delivery
stays unacked and runs again, ahead of the messages prefetched behind it. A longer one (Open
Dental off for the night, a 401, an operator's pause) *stands the lane down*: it takes the office's
hold, cancels its consumer, parks what it has in hand in the hub database (hub/custody) and acks
it; the office's new messages wait ready in its queue. When the hold's time comes, the lane runs
the parked deliveries first, in order, releases the hold and consumes again. A paused vendor's
delivery is parked at once and the lane goes on with the others'.

Several writers share the offices: a lane consumes its office's queue only while the control
view (hub/control) names this writer the office's owner (hub/control/ownership.py). When the
owner changes, the lane finishes the delivery it runs, then lets the queue go, handing back what
it prefetched in order with the consumer in one step (office_queue.py); the new owner has
registered meanwhile, or registers within a poll, and the broker gives it the queue with the
handed-back deliveries first. A lane holding the office releases its hold to the new owner, who
drains what was parked first. Single active consumer keeps one consumer active whatever two
writers' views say for a moment.

A writer standing by on the queue is given it when the other lets it go: on its first delivery
since it registered it asks the database for the office's hold and parked deliveries, and hands
the delivery back while another writer holds the office, so nothing published later is applied
before what is parked. A lane already consuming learns of another's hold from the control
watcher, within a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field, replace

from aio_pika.abc import AbstractRobustChannel

from hub.control.model import ControlView
from hub.control.running import Control
from hub.custody import Parked
from hub.errors import HubError, LedgerError
from hub.writer.finishing import ShieldedTasks
from hub.writer.metrics import WriterMetrics
from hub.writer.office_queue import Delivery, InHand, OfficeQueue, ack, delivery_of
from hub.writer.pipeline import Decided, Pipeline
from hub.writer.working_bytes import WorkingBytes

log = logging.getLogger(__name__)

# Why a lane stood down, as its hold and its parked deliveries record it (beside HoldCause).
OFFICE_PAUSED = "office_paused"  # an operator paused the office
DRAIN = "drain"  # parked deliveries may run: the lane takes the hold to run them first
VENDOR_PAUSED = "vendor_paused"  # parked without a hold: the lane goes on with the others
ADOPTED = "adopted"  # the hold of a writer gone, taken over with what it parked
STALE_VIEW_POLLS = 3  # a control view older than this many polls is not trusted to start work
PARKED_BATCH = 50
_NO_WAIT = contextlib.nullcontext()  # reusable: it holds nothing


@dataclass(frozen=True, kw_only=True)
class LaneContext:
    """What every lane of a writer shares."""

    pipeline: Pipeline
    metrics: WriterMetrics
    shielded: ShieldedTasks  # acks and parks a stopping worker must not cut in half
    stopping: asyncio.Event
    control: Control
    hold_limit_s: float  # the longest a delivery stays unacked: half the broker's timeout
    working: WorkingBytes  # room for the bodies the lanes work on at once


@dataclass(frozen=True, kw_only=True)
class OwnHold:
    cause: str
    wake_at_s: float  # monotonic: when its parked deliveries may run again
    taken_at_s: float = field(default_factory=time.monotonic)  # a view read before knows nothing


class Lane:
    def __init__(self, *, office: str, queue: OfficeQueue, context: LaneContext) -> None:
        self.office = office
        self._queue = queue
        self._ctx = context
        self._changed = context.control.watcher.listen()
        self._hold: OwnHold | None = None
        self._running = False
        self._drained_at_s = float("-inf")
        self._owned: bool | None = None  # whether the last trusted view made this writer owner

    @property
    def channel(self) -> AbstractRobustChannel | None:
        return self._queue.channel

    @property
    def consuming(self) -> bool:
        return self._queue.registered

    async def begin(self) -> None:
        """Consume the office queue at once if nothing holds it back; the lane's turns see to
        the rest (a hold, a pause, deliveries parked before)."""
        view = self._view()
        self._owned = self._owns(view)
        held = view.hold(self.office) is not None or view.runnable_parked(self.office)
        paused = view.pauses.office_paused(self.office)
        if self._owned and not held and not paused and self._trusted(view):
            await self._queue.register()

    def in_flight(self) -> int:
        """Deliveries the lane holds unacked: waiting in hand or running."""
        return self._queue.waiting() + int(self._running)

    async def run(self) -> None:
        """Until stopping: consume, stand by, or run what the lane's hold parked. A failure of
        the lane's own machinery (a bug) is logged and the lane goes on after a poll; only the
        ledger refusing for good ends it, and the writer with it."""
        while not self._ctx.stopping.is_set():
            try:
                await self._turn()
            except LedgerError:
                raise
            except Exception:
                log.exception("the lane failed unexpectedly; it goes on",
                              extra={"office": self.office})
                with contextlib.suppress(Exception):  # reporting never ends a lane
                    self._metrics.report_failed("lane")
                await self._sleep(self._ctx.control.poll_s)

    async def _turn(self) -> None:
        self._note_owner(self._view())
        if self._hold is not None:
            await self._holding(self._hold)
        elif self._queue.registered:
            await self._consuming()
        else:
            await self._standing_by()

    async def cancel(self) -> None:
        """Stop the broker's deliveries; what the lane holds stays unacked (the broker has it
        back when the channel closes)."""
        await self._queue.cancel()

    # Consuming -------------------------------------------------------------------------------

    async def _consuming(self) -> None:
        item = await self._next()
        if item is not None and not self._queue.checked and not await self._custody_clear(item):
            return
        view = self._view()
        if _foreign_hold(view, self.office, self._me):
            await self._let_go([] if item is None else [item], "another writer's hold")
        elif view.pauses.office_paused(self.office):
            await self._stand_down(self._head(item), OFFICE_PAUSED, wake_at_s=time.monotonic())
        elif self._trusted(view) and not self._owns(view):
            await self._let_go([] if item is None else [item], _served_by(view, self.office))
        elif self._parked_to_run(view) and (self._queue.active or self._owns(view)):
            await self._stand_down(self._head(item), DRAIN, wake_at_s=time.monotonic())
        elif item is not None and self._trusted(view):
            await self._deliver(item, view)
        elif item is not None:
            await self._wait_for_view(item)

    async def _custody_clear(self, item: InHand) -> bool:
        """The first delivery since the lane registered: the broker may have made it the office's
        active consumer just now, because another writer let the queue go to stand down. Its
        hold is asked of the database itself (a view may be a poll old), and what it parked runs
        first; False when the lane handed back or stood down instead."""
        custody = self._ctx.control.custody
        paused = frozenset(self._view().pauses.vendors)
        try:
            hold = await custody.hold(self.office)
            parked = await custody.parked(self.office, skip_vendors=paused, limit=1)
        except HubError as exc:
            await self._let_go([item], f"custody unknown ({exc})")
            return False
        if hold is not None and hold.writer_id != self._me:
            await self._let_go([item], "another writer's hold")
            return False
        if parked:
            await self._stand_down(self._head(item), DRAIN, wake_at_s=time.monotonic())
            return False
        self._queue.checked = True
        return True

    async def _next(self) -> InHand | None:
        """The next delivery in hand; None when stopping or when the control view changed (the
        lane looks at it again)."""
        item = self._queue.take()
        if item is not None:
            return item
        await self._wait(None, self._queue.arrival())
        return self._queue.take()

    def _head(self, item: InHand | None) -> list[tuple[InHand, Delivery]]:
        return [] if item is None else [(item, delivery_of(item.message, self.office))]

    async def _deliver(self, item: InHand, view: ControlView) -> None:
        delivery = delivery_of(item.message, self.office)
        if view.pauses.vendor_paused(delivery.user_id):
            await self._ctx.shielded.run(self._park([(item, delivery)], VENDOR_PAUSED))
            return
        self._running = True
        try:
            await self._run_in_place(item, delivery)
        finally:
            self._running = False

    async def _run_in_place(self, item: InHand, delivery: Delivery) -> None:
        """Decide the delivery; a hold that fits the delivery's unacked time waits in place and
        runs it again, a longer one stands the lane down with it at the head."""
        while not item.stale and not self._ctx.stopping.is_set():
            # Room only while it runs: a delivery waiting in place costs its body alone. A small
            # body has nothing to wait for (working_bytes.py), and skips the budget altogether.
            working, size = self._ctx.working, len(delivery.body)
            room = working.room(size) if size > working.unmetered_bytes else _NO_WAIT
            async with room:
                ran = await self._ctx.pipeline.run(delivery)
            if isinstance(ran, Decided):
                await self._ctx.shielded.run(self._ack(item))
                return
            delivery = ran.delivery
            if time.monotonic() + ran.delay_s > item.received_s + self._limit_s:
                wake_at_s = time.monotonic() + ran.delay_s
                await self._stand_down([(item, delivery)], ran.cause, wake_at_s=wake_at_s)
                return
            if not await self._wait(ran.delay_s):
                return  # stopping: it stays unacked, and the broker has it back
            if self._leaving(self._view()):
                await self._leave(item, delivery)
                return

    async def _leave(self, item: InHand, delivery: Delivery) -> None:
        """While it waited in place, another writer took the office's hold or became its owner
        (hand everything back), or an operator paused the office (stand down with it at the
        head)."""
        view = self._view()
        if _foreign_hold(view, self.office, self._me):
            await self._let_go([item], "another writer's hold")
        elif view.pauses.office_paused(self.office):
            await self._stand_down([(item, delivery)], OFFICE_PAUSED, wake_at_s=time.monotonic())
        else:
            await self._let_go([item], _served_by(view, self.office))

    async def _wait_for_view(self, item: InHand) -> None:
        """The control view is too old to start work on (the hub database is away): the lane
        keeps what it holds while that fits, and hands it back after."""
        if time.monotonic() + self._ctx.control.poll_s <= item.received_s + self._limit_s:
            self._queue.put_back(item)
            await self._wait(self._ctx.control.poll_s)
            return
        await self._let_go([item], "the hub database is away")

    # Standing down and holding ---------------------------------------------------------------

    async def _stand_down(
        self, head: Sequence[tuple[InHand, Delivery]], cause: str, *, wake_at_s: float
    ) -> None:
        """Take the office's hold, let the queue go, park what is in hand and ack it."""
        custody, me = self._ctx.control.custody, self._me
        try:
            other = await custody.take_hold(self.office, me, cause)
        except HubError as exc:
            await self._let_go([item for item, _ in head], f"no hold ({exc})")
            return
        if other is not None:
            await self._let_go([item for item, _ in head], "another writer's hold")
            return
        rest = await self._queue.cancel()
        parking = [*head, *((item, delivery_of(item.message, self.office)) for item in rest)]
        self._hold = OwnHold(cause=cause, wake_at_s=wake_at_s)
        await self._ctx.shielded.run(self._park(parking, cause))
        log.info("stood down (%s): %d delivery(ies) parked", cause, len(parking),
                 extra={"office": self.office})

    async def _park(self, parking: Sequence[tuple[InHand, Delivery]], cause: str) -> None:
        deliveries = [delivery for _, delivery in parking]
        try:
            await self._ctx.control.custody.park(self.office, self._me, cause, deliveries)
        except HubError as exc:
            await self._let_go([item for item, _ in parking], f"could not park ({exc})")
            return
        for item, _ in parking:
            await self._ack(item)

    async def _holding(self, hold: OwnHold) -> None:
        """Wait for the hold's time (and for an operator's resume), then run the parked
        deliveries in order; none left to run: release the hold, consume again."""
        view = self._view()
        now = time.monotonic()
        if view.read_at_s > hold.taken_at_s and _foreign_hold(view, self.office, self._me):
            # Another writer adopted it: this one's renewals failed for too long.
            log.warning("another writer took over the office's hold",
                        extra={"office": self.office})
            self._hold = None
            return
        if self._trusted(view) and not self._owns(view):
            await self._hand_hold_over()
            return
        if view.pauses.office_paused(self.office):
            await self._wait(None)  # until the view changes: resumed, or another's hold
            return
        if now < hold.wake_at_s:
            await self._wait(hold.wake_at_s - now)  # sooner if the view changes
            return
        await self._drain(hold, view)

    async def _drain(self, hold: OwnHold, view: ControlView) -> None:
        """Run the next parked deliveries in order; none left: release the hold and consume
        again (when this writer still serves the office)."""
        custody, now = self._ctx.control.custody, time.monotonic()
        paused = frozenset(view.pauses.vendors)
        try:
            batch = await custody.parked(self.office, skip_vendors=paused, limit=PARKED_BATCH)
            if not batch:
                await custody.release_hold(self.office, self._me)
        except HubError as exc:
            log.warning("cannot drain parked deliveries (%s)", exc, extra={"office": self.office})
            self._hold = replace(hold, wake_at_s=now + self._ctx.control.poll_s)
            return
        if not batch:
            self._hold, self._drained_at_s = None, time.monotonic()
            if self._owns(self._view()):
                await self._queue.register()
                log.info("consuming again", extra={"office": self.office})
            return
        for parked in batch:
            if not await self._run_parked(parked) or self._ctx.stopping.is_set():
                return

    async def _hand_hold_over(self) -> None:
        """Another writer serves the office now: this one's hold goes (what it parked stays
        parked), and the owner drains the parked deliveries before it consumes."""
        try:
            await self._ctx.control.custody.release_hold(self.office, self._me)
        except HubError as exc:
            log.warning("could not release the hold for the office's owner (%s)", exc,
                        extra={"office": self.office})
            await self._wait(self._ctx.control.poll_s)
            return
        self._hold = None
        log.info("released the office's hold: %s", _served_by(self._view(), self.office),
                 extra={"office": self.office})

    async def _run_parked(self, parked: Parked) -> bool:
        """Decide one parked delivery; False when it is held again (the hold's time moves)."""
        self._running = True
        try:
            ran = await self._ctx.pipeline.run(parked.delivery)
        finally:
            self._running = False
        if isinstance(ran, Decided):
            await self._ctx.shielded.run(self._ctx.control.custody.unpark(parked.id))
            return True
        await self._keep(replace(parked, delivery=ran.delivery))
        wake_at_s = time.monotonic() + ran.delay_s
        hold = self._hold or OwnHold(cause=ran.cause, wake_at_s=wake_at_s)
        self._hold = replace(hold, cause=ran.cause, wake_at_s=wake_at_s)
        return False

    async def _keep(self, parked: Parked) -> None:
        try:
            await self._ctx.control.custody.keep(parked)
        except HubError as exc:  # its counts restart from the last ones kept
            log.warning("could not record a parked delivery's run (%s)", exc,
                        extra={"office": self.office})

    async def _standing_by(self) -> None:
        """Not consuming: until no operator pauses the office and no other writer holds it, as
        the database says (a view may be a poll old, and registering too soon would only hand
        the queue's head back again); a hold its writer stopped renewing is adopted, with what
        it parked."""
        view = self._view()
        if view.pauses.office_paused(self.office):
            await self._wait(None)  # until the view changes
            return
        if not self._trusted(view):
            await self._wait(self._ctx.control.poll_s)
            return
        if not self._owns(view):
            await self._wait(None)  # until the view changes: this writer may become the owner
            return
        try:
            hold = await self._ctx.control.custody.hold(self.office)
        except HubError as exc:
            log.warning("cannot read the office's hold (%s)", exc, extra={"office": self.office})
            await self._wait(self._ctx.control.poll_s)
            return
        if hold is not None and hold.writer_id != self._me:
            if hold.idle_s < self._ctx.control.stale_after_s or not await self._adopt():
                await self._wait(self._ctx.control.poll_s)
        elif self._parked_to_run(view):
            await self._stand_down([], DRAIN, wake_at_s=time.monotonic())
        else:
            await self._queue.register()

    async def _adopt(self) -> bool:
        control = self._ctx.control
        try:
            adopted = await control.custody.adopt_hold(
                self.office, self._me, stale_after_s=control.stale_after_s
            )
        except HubError as exc:
            log.warning("could not adopt a stale hold (%s)", exc, extra={"office": self.office})
            return False
        if adopted:
            log.info("adopted the hold of a writer gone", extra={"office": self.office})
            self._hold = OwnHold(cause=ADOPTED, wake_at_s=time.monotonic())
        return adopted

    # Shared steps ----------------------------------------------------------------------------

    async def _ack(self, item: InHand) -> None:
        await ack(item.message, self.office, lambda: self._metrics.ack_failed(self.office))

    async def _let_go(self, items: Sequence[InHand], why: str) -> None:
        """Stop consuming and hand ``items`` and everything else in hand back to the broker,
        in one step and in delivery order. Each counts one delivery toward the queue's limit, so
        the lane does this only when it cannot keep them."""
        count = len([item for item in items if not item.stale]) + await self._queue.let_go()
        if count:
            log.warning("handed %d delivery(ies) back to the broker: %s", count, why,
                        extra={"office": self.office})

    async def _wait(self, delay_s: float | None, *also: Awaitable[object]) -> bool:
        """Until ``delay_s`` passed (True; None: no limit), stopping (False), the view changed or
        ``also``."""
        waits: list[asyncio.Future[object]] = [
            asyncio.ensure_future(self._ctx.stopping.wait()),
            asyncio.ensure_future(self._changed.wait()),
        ]
        waits += [asyncio.ensure_future(awaitable) for awaitable in also]
        try:
            await asyncio.wait(waits, timeout=delay_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            self._changed.clear()
        return not self._ctx.stopping.is_set()

    async def _sleep(self, delay_s: float) -> None:
        """``delay_s``, whatever the view does; sooner only when stopping."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay_s):
                await self._ctx.stopping.wait()

    def _parked_to_run(self, view: ControlView) -> bool:
        """Parked deliveries may run; a view read before this lane's last drain ended does not
        know that they ran."""
        return view.read_at_s > self._drained_at_s and view.runnable_parked(self.office)

    def _leaving(self, view: ControlView) -> bool:
        return (
            _foreign_hold(view, self.office, self._me)
            or view.pauses.office_paused(self.office)
            or (self._trusted(view) and not self._owns(view))
        )

    def _view(self) -> ControlView:
        return self._ctx.control.watcher.view()

    def _trusted(self, view: ControlView) -> bool:
        age_s = time.monotonic() - view.read_at_s
        return age_s <= STALE_VIEW_POLLS * self._ctx.control.poll_s

    def _owns(self, view: ControlView) -> bool:
        return view.owner(self.office) == self._me

    def _note_owner(self, view: ControlView) -> None:
        """Count and log the office coming to this writer or going to another."""
        if not self._trusted(view):
            return
        owns = self._owns(view)
        if self._owned is not None and owns != self._owned:
            self._metrics.handover(self.office, taken=owns)
            log.info("this writer serves the office now" if owns else _served_by(view, self.office),
                     extra={"office": self.office})
        self._owned = owns

    @property
    def _me(self) -> str:
        return self._ctx.control.writer_id

    @property
    def _metrics(self) -> WriterMetrics:
        return self._ctx.metrics

    @property
    def _limit_s(self) -> float:
        return self._ctx.hold_limit_s


def _served_by(view: ControlView, office: str) -> str:
    return f"the office is served by writer {view.owner(office)}"


def _foreign_hold(view: ControlView, office: str, me: str) -> bool:
    hold = view.hold(office)
    return hold is not None and hold.writer_id != me
