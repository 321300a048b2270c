"""Step 7, settle: a final verdict made durable before the message is acked.

Rejected and dead intents go to ``hub.dlx`` first, then the ledger's result, then the outcome
event: a crash between any two leaves the message unacked, and its redelivery finds the ledger
either unfinished (all is done again; a dead letter may be doubled, never lost) or finished (the
first outcome is repeated). Runs under ``asyncio.shield``: a stopping worker never cuts it short.

An outcome the broker will not take does not hold the message: the decision stands, the event
waits in the outbox for its vendor (hub/outbox) and the delivery is acked, so one vendor's
missing or full outcome queue never stalls an office for the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts import OutcomeEvent
from hub.errors import TransientError
from hub.ledger import ApiCallRecord, Ledger
from hub.outbox import OutcomeOutbox
from hub.writer.backoff import Backoff, Draw
from hub.writer.delivery import Delivery
from hub.writer.patience import LedgerPatience
from hub.writer.publisher import Publisher, PublishFailed
from hub.writer.records import dead_letter_headers, finish_of, outcome_event
from hub.writer.verdict import (
    DEAD_LETTERED,
    FINAL_OUTCOMES,
    About,
    Decision,
    HoldCause,
    Outcome,
    Verdict,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Settler:
    ledger: Ledger
    publisher: Publisher
    clock: Callable[[], datetime]
    draw: Draw
    # The hub's own ledger or broker failing has no durable count: the lane holds the message
    # and tries again with this backoff on the number of holds so far.
    infra_backoff: Backoff
    patience: LedgerPatience
    outbox: OutcomeOutbox

    async def settle(self, delivery: Delivery, verdict: Verdict) -> Decision:
        if verdict.outcome not in FINAL_OUTCOMES:
            return _decision(verdict)
        try:
            await self._make_durable(delivery, verdict)
        except _Unfinished as failure:
            return self.infra_retry(delivery, verdict.about, failure.cause, verdict.calls)
        except TransientError as exc:
            return self.infra_retry(delivery, verdict.about, exc)
        return _decision(verdict)

    def infra_retry(
        self, delivery: Delivery, about: About, exc: Exception,
        unrecorded: tuple[ApiCallRecord, ...] = (),
    ) -> Decision:
        """The hub's own ledger or broker failed: the lane pauses, holding the message (nothing
        is acked or dead-lettered for it), and tries again later; ``unrecorded``: the calls a
        failed finish did not record, for the next run to record."""
        delay_s = self.infra_backoff.delay_s(delivery.held + 1, self.draw)
        log.warning("hub infrastructure failed (%s); retrying in %.1f s", exc, delay_s,
                    extra=about.log_fields())
        return Decision(
            about=about, outcome=Outcome.LANE_PAUSED, delay_s=delay_s, cause=HoldCause.HUB,
            unrecorded=unrecorded,
        )

    async def _make_durable(self, delivery: Delivery, verdict: Verdict) -> None:
        decided_at = self.clock()
        event = outcome_event(verdict, decided_at=decided_at)
        try:
            if verdict.outcome in DEAD_LETTERED:
                headers = dead_letter_headers(verdict, dead_lettered_at=decided_at)
                await self.publisher.dead_letter(delivery, headers)
            finished = verdict.outcome is Outcome.DUPLICATE or await self._finish(verdict, event)
        except TransientError as exc:
            raise _Unfinished(exc) from exc
        if not finished:
            # Another delivery finished it first; its outcome is the one that stands.
            log.warning("intent already finished elsewhere", extra=verdict.about.log_fields())
            return
        if event is not None:
            await self._tell(event, verdict.about)

    async def _tell(self, event: OutcomeEvent, about: About) -> None:
        """Publish the outcome, or keep it in the outbox: behind its vendor's waiting ones (so
        they are not overtaken), or when the broker refuses it. Only a failed keep raises."""
        if self.outbox.has_waiting(event.vendor):
            await self.outbox.keep(event, intent_id=about.intent_id, error=None)
            return
        try:
            await self.publisher.outcome(event)
        except PublishFailed as exc:
            await self.outbox.keep(event, intent_id=about.intent_id, error=str(exc))
            log.warning("outcome event not published (%s); kept in the outbox for its vendor",
                        exc, extra=about.log_fields())

    async def _finish(self, verdict: Verdict, event: OutcomeEvent | None) -> bool:
        """The ledger's result; True too when there is no ledger row (refused before a claim)."""
        intent_id = verdict.about.intent_id
        if intent_id is None:
            return True
        patience_s = self.patience.seconds(verdict.about.office)
        return await self.ledger.finish(
            intent_id, finish_of(verdict, event), patience_s=patience_s
        )


class _Unfinished(Exception):
    """The verdict's ledger record was not made (its calls with it)."""

    def __init__(self, cause: TransientError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _decision(verdict: Verdict) -> Decision:
    return Decision(
        about=verdict.about,
        outcome=verdict.outcome,
        reason=verdict.reason,
        delay_s=verdict.delay_s,
        cause=verdict.cause,
        sent=verdict.sent,
    )
