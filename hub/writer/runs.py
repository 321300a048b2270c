"""One delivery's runs through the writer, until it is decided or must wait.

A run is one pass of ``process`` (hub/writer/pipeline.py). A run that the writer fails on
unexpectedly (a bug) is run again after a short backoff, up to ``crash_limit`` runs, and then
given up on: dead-lettered as ``writer_failed``. Every decision is reported to the lane's metrics
and to ``/healthz`` here, and no report can end a lane. Where the delivery waits (unacked in
place, or parked) is the lane's to decide (hub/writer/lanes.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from hub.errors import LedgerError
from hub.observability import LaneProgress
from hub.writer.acking import ACTIONS, Action
from hub.writer.backoff import Backoff
from hub.writer.delivery import Delivery
from hub.writer.metrics import WriterMetrics
from hub.writer.verdict import About, Decision, HoldCause, Outcome
from hub.writer.wrappers import Process

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Decided:
    """A final decision, durable: the delivery is to be acked (or unparked)."""

    decision: Decision


@dataclass(frozen=True, kw_only=True)
class Held:
    """Not decided: run ``delivery`` (its runs so far counted) again after ``delay_s``."""

    delivery: Delivery
    delay_s: float
    cause: str  # a HoldCause's value


@dataclass(frozen=True, kw_only=True)
class Runs:
    office: str
    process: Process
    give_up: Process  # dead-letters a delivery the writer keeps failing on (writer_failed)
    metrics: WriterMetrics
    progress: LaneProgress  # /healthz: busy while a delivery runs, idle once it is reported
    crash_limit: int
    crash_backoff: Backoff

    async def until_held(self, delivery: Delivery) -> Decided | Held:
        giving_up = False
        while True:
            decision = await self._decide(delivery, giving_up=giving_up)
            self._report(decision)
            if ACTIONS[decision.outcome] is Action.ACK:
                return Decided(decision=decision)
            unrecorded = decision.unrecorded or delivery.unrecorded
            delivery = replace(delivery, held=delivery.held + 1, unrecorded=unrecorded)
            if decision.outcome is not Outcome.CRASHED:
                return Held(delivery=delivery, delay_s=decision.delay_s, cause=_cause(decision))
            delivery = replace(delivery, crashes=delivery.crashes + 1)
            giving_up = delivery.crashes >= self.crash_limit
            if not giving_up:
                delay_s = self.crash_backoff.ceiling_s(delivery.crashes)
                return Held(delivery=delivery, delay_s=delay_s, cause=HoldCause.CRASHED.value)

    async def _decide(self, delivery: Delivery, *, giving_up: bool) -> Decision:
        step = self.give_up if giving_up else self.process
        self.progress.busy(self.office)
        try:
            return await step(delivery)
        except LedgerError:
            raise  # the ledger refuses for good: the writer stops, nothing acked
        except Exception:
            log.exception("processing failed unexpectedly", extra={"office": self.office})
            return Decision(
                about=About(office=self.office), outcome=Outcome.CRASHED, cause=HoldCause.CRASHED
            )

    def _report(self, decision: Decision) -> None:
        """The lane's state for its metrics; reporting never ends a lane."""
        self.progress.idle(self.office)  # its own guard: it never raises
        try:
            if decision.outcome is Outcome.LANE_PAUSED:
                cause = HoldCause.HUB if decision.cause is None else decision.cause
                self.metrics.lane_paused(self.office, cause.value)
            elif decision.outcome in (Outcome.RETRY_LATER, Outcome.CRASHED):
                self.metrics.lane_backing_off(self.office)
            else:
                self.metrics.lane_running(self.office)
        except Exception:
            log.exception("reporting the lane's state failed", extra={"office": self.office})


def _cause(decision: Decision) -> str:
    return (decision.cause or HoldCause.HUB).value
