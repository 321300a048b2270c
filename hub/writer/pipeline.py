"""One delivery through the writer's steps, run after run, until it is decided or must wait.

    admit (intake) ─▶ claim (intake) ─▶ request_for (application) ─▶ resolve_doubt (reconciling,
    an attempt in doubt only) ─▶ apply (application) ─▶ finish (finishing)

Each step returns what it produced or a decision, and the first decision ends the run. The hub's
own infrastructure failing (a ``TransientError`` from the ledger) holds the message for a retry;
a ``LedgerError`` stops the writer, unacked. A run the writer fails on unexpectedly (a bug) is
run again after a short backoff, up to ``crash_limit`` runs, and then given up on: dead-lettered
as ``writer_failed``. Each run is logged (one line with its decision), measured and reported to
the lane's state and ``/healthz`` here; no report changes a decision or ends a lane. Where the
delivery waits (unacked in place, or parked) is the lane's to decide (lanes.py).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from contracts import OutcomeReason, OutcomeStatus
from hub.errors import LedgerError, TransientError
from hub.ledger import Ledger
from hub.observability import LaneProgress
from hub.observability.labels import outcome_label
from hub.observability.logs import log_context
from hub.opendental.office import OfficeApi
from hub.opendental.pacer import throttled
from hub.registry import Registry
from hub.writer.application import Applier, request_for
from hub.writer.decisions import Decision, Final, Hold, HoldCause, IntentIdentity
from hub.writer.finishing import Finisher, ShieldedTasks
from hub.writer.intake import admit, claim
from hub.writer.metrics import WriterMetrics
from hub.writer.office_queue import Delivery
from hub.writer.reconciling import Reconciler
from hub.writer.retrying import Backoff

log = logging.getLogger(__name__)

# Both ledger units of a throttled key's turn together wait at most 8% of a one-second slot.
THROTTLED_BATCHING_S = 0.04


@dataclass(frozen=True)
class CommitBatching:
    """How long a lane's ledger units (the claim, the finish) may wait to be committed with
    other lanes' (hub/ledger/group_commit.py). After each reply a throttled customer key waits
    most of a slot (a second less its fastest round trip) before its next request may start
    (pacer.py): a little wait on each unit costs the key nothing and lets the units of many
    offices share one round trip and one durable commit. A lane whose key is not throttled
    sends its units at once."""

    throttled_offices: frozenset[str]

    @classmethod
    def of_offices(cls, offices: Iterable[OfficeApi]) -> CommitBatching:
        return cls(frozenset(office.office_id for office in offices if throttled(office)))

    def seconds(self, office: str | None) -> float:
        return THROTTLED_BATCHING_S if office in self.throttled_offices else 0.0


@dataclass(frozen=True, kw_only=True)
class Decided:
    """A final decision, durable: the delivery is to be acked (or unparked)."""

    final: Final


@dataclass(frozen=True, kw_only=True)
class Held:
    """Not decided: run ``delivery`` (its runs so far counted) again after ``delay_s``."""

    delivery: Delivery
    delay_s: float
    cause: str  # a HoldCause's value


@dataclass(frozen=True, kw_only=True)
class GiveUp:
    """The writer failed on ``delivery`` ``crash_limit`` times: dead-letter it (writer_failed)."""

    delivery: Delivery


def after_run(
    delivery: Delivery, decision: Decision | None, *, crash_limit: int, crash_backoff: Backoff
) -> Decided | Held | GiveUp:
    """What one run's decision means for its delivery (None: the writer failed on it). Only a
    final decision is acked; a hold keeps the delivery, with the calls a failed finish did not
    record; a crash holds it with the crash backoff, until the writer gives up on it."""
    if isinstance(decision, Final):
        return Decided(final=decision)
    if decision is not None:
        unrecorded = decision.unrecorded or delivery.unrecorded
        held = replace(delivery, held=delivery.held + 1, unrecorded=unrecorded)
        return Held(delivery=held, delay_s=decision.delay_s, cause=decision.cause.value)
    crashed = replace(delivery, held=delivery.held + 1, crashes=delivery.crashes + 1)
    if crashed.crashes >= crash_limit:
        return GiveUp(delivery=crashed)
    delay_s = crash_backoff.ceiling_s(crashed.crashes)
    return Held(delivery=crashed, delay_s=delay_s, cause=HoldCause.CRASHED.value)


@dataclass(frozen=True, kw_only=True)
class Pipeline:
    registry: Registry
    ledger: Ledger
    reconciler: Reconciler
    applier: Applier
    finisher: Finisher
    shielded: ShieldedTasks
    clock: Callable[[], datetime]
    batching: CommitBatching
    metrics: WriterMetrics
    progress: LaneProgress  # /healthz: busy while a delivery runs, idle once it is reported
    crash_limit: int  # unexpected failures of one delivery before it is dead-lettered
    crash_backoff: Backoff

    async def run(self, delivery: Delivery) -> Decided | Held:
        """Run the delivery until it is decided, or held for a while."""
        giving_up = False
        while True:
            decision = await self._run_once(delivery, giving_up=giving_up)
            step = after_run(
                delivery, decision, crash_limit=self.crash_limit, crash_backoff=self.crash_backoff
            )
            if not isinstance(step, GiveUp):
                return step
            delivery, giving_up = step.delivery, True

    async def _run_once(self, delivery: Delivery, *, giving_up: bool) -> Decision | None:
        """One run, observed; None when the writer failed on it unexpectedly (a bug)."""
        office = delivery.office
        self.progress.busy(office)
        try:
            step = self._give_up if giving_up else self._process
            decision: Decision | None = await self._observed(delivery, step)
        except LedgerError:
            raise  # the ledger refuses for good: the writer stops, nothing acked
        except Exception:
            log.exception("processing failed unexpectedly", extra={"office": office})
            decision = None
        self.progress.idle(office)  # its own guard: it never raises
        self._report_lane(office, decision)
        return decision

    async def _process(self, delivery: Delivery) -> Decision:
        try:
            decision = await self._decide(delivery)
        except TransientError as exc:
            return self.finisher.infra_hold(delivery, IntentIdentity(office=delivery.office), exc)
        if isinstance(decision, Hold):
            return decision
        if delivery.unrecorded and not decision.duplicate:
            # The calls an earlier run of the delivery could not record: a duplicate's first
            # finish, if it was this delivery's own, committed them already.
            decision = replace(decision, calls=(*delivery.unrecorded, *decision.calls))
        return await self.shielded.run(self._finish(delivery, decision))

    async def _decide(self, delivery: Delivery) -> Decision:
        admitted = admit(delivery, self.registry)
        if isinstance(admitted, Final):
            return admitted
        intent = admitted.intent
        claimed = await claim(
            self.ledger, delivery, admitted, self.clock(),
            writer_id=self.reconciler.own.writer_id,
            batching_s=self.batching.seconds(delivery.office),
        )
        if isinstance(claimed, Final):
            return claimed
        request = await request_for(
            self.ledger, claimed.identity, intent.payload,
            call_timeout_s=self.applier.attempt_timeout_s,
        )
        if isinstance(request, Final):
            return request
        if claimed.doubt is not None:
            resolved = await self.reconciler.resolve_doubt(claimed, intent, request)
            if isinstance(resolved, Final | Hold):
                return resolved
            claimed = resolved
        return await self.applier.apply(claimed, intent, request)

    async def _give_up(self, delivery: Delivery) -> Decision:
        """The writer kept failing on this delivery (a bug): dead-letter it with its reason so the
        office's lane goes on behind it; an operator replays it once the bug is fixed. Nothing
        of the failing steps runs again: the letter names only what the broker proved."""
        identity = IntentIdentity(
            office=delivery.office, message_id=delivery.message_id, vendor=delivery.user_id
        )
        message = f"The hub failed on this message {delivery.crashes} time(s); see its log."
        final = Final(
            intent=identity, status=OutcomeStatus.DEAD, reason=OutcomeReason.WRITER_FAILED,
            message=message,
        )
        return await self.shielded.run(self._finish(delivery, final))

    async def _finish(self, delivery: Delivery, final: Final) -> Final | Hold:
        batching_s = self.batching.seconds(final.intent.office)
        return await self.finisher.finish(delivery, final, batching_s=batching_s)

    async def _observed(
        self, delivery: Delivery, step: Callable[[Delivery], Awaitable[Decision]]
    ) -> Decision:
        """Every log line of the run names its office and message; one line says the decision,
        and the run is measured. A failure to log or measure never changes the decision."""
        with log_context(office=delivery.office, message_id=delivery.message_id):
            self._safely("measure", lambda: self.metrics.redelivered(delivery))
            started = time.perf_counter()
            decision = await step(delivery)
            seconds = time.perf_counter() - started
            self._safely("log", lambda: _log(decision))
            self._safely("measure", lambda: self.metrics.decided(delivery, decision, seconds))
        return decision

    def _safely(self, what: str, report: Callable[[], None]) -> None:
        try:
            report()
        except Exception:
            self.metrics.report_failed(what)
            with contextlib.suppress(Exception):  # logging may be what failed
                log.exception("reporting a run failed (%s)", what)

    def _report_lane(self, office: str, decision: Decision | None) -> None:
        """The lane's state for its metrics; reporting never ends a lane."""
        try:
            if isinstance(decision, Hold) and decision.pauses_lane:
                self.metrics.lane_paused(office, decision.cause.value)
            elif decision is None or isinstance(decision, Hold):
                self.metrics.lane_backing_off(office)
            else:
                self.metrics.lane_running(office)
        except Exception:
            log.exception("reporting the lane's state failed", extra={"office": office})


def _log(decision: Decision) -> None:
    fields: dict[str, object] = decision.intent.log_fields()
    if isinstance(decision, Final):
        fields["outcome"] = word = outcome_label(decision.status, duplicate=decision.duplicate)
        if decision.reason is not None:
            fields["reason"] = decision.reason
    else:
        fields["outcome"] = word = "held"
        fields["cause"] = decision.cause
        if decision.delay_s:
            fields["delay_s"] = round(decision.delay_s, 3)
    log.info("%s", word, extra=fields)
