"""``process(delivery) -> Decision``: the one flow, one module per step, data moving one way.

    sender ─▶ validation ─▶ authorization ─▶ claiming ─▶ resolution ─▶ reconciling (an attempt
    in doubt only) ─▶ application ─▶ settlement

A step that settles the intent's fate early raises ``Early(verdict)``; settlement records every
verdict the same way. The hub's own infrastructure failing (a ``TransientError`` from the
ledger) holds the message for a retry; a ``LedgerError`` stops the writer, unacked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from contracts import OutcomeReason
from hub.errors import TransientError
from hub.ledger import Ledger
from hub.registry import Registry
from hub.writer.application import Applier
from hub.writer.authorization import authorize
from hub.writer.bookkeeping import Bookkeeping
from hub.writer.claiming import claim
from hub.writer.delivery import Delivery
from hub.writer.patience import LedgerPatience
from hub.writer.reconciling import Reconciler
from hub.writer.resolution import resolve
from hub.writer.sender import identify
from hub.writer.settlement import Settler
from hub.writer.validation import validate
from hub.writer.verdict import FINAL_OUTCOMES, About, Decision, Early, Outcome, Verdict

# The verdicts whose finish records the calls an earlier run of the delivery could not: a
# duplicate's first finish, if it was this delivery's own, committed them already.
RECORDED = FINAL_OUTCOMES - {Outcome.DUPLICATE}


@dataclass(frozen=True, kw_only=True)
class Pipeline:
    registry: Registry
    ledger: Ledger
    reconciler: Reconciler
    applier: Applier
    settler: Settler
    bookkeeping: Bookkeeping
    clock: Callable[[], datetime]
    patience: LedgerPatience

    async def process(self, delivery: Delivery) -> Decision:
        about = About(office=delivery.office)
        try:
            verdict = await self._decide(delivery)
        except Early as early:
            verdict = early.verdict
        except TransientError as exc:
            return self.settler.infra_retry(delivery, about, exc)
        if delivery.unrecorded and verdict.outcome in RECORDED:
            verdict = replace(verdict, calls=(*delivery.unrecorded, *verdict.calls))
        return await self.bookkeeping.run(self.settler.settle(delivery, verdict))

    async def give_up(self, delivery: Delivery) -> Decision:
        """The writer kept failing on this delivery (a bug): dead-letter it with its reason so the
        office's lane goes on behind it; an operator replays it once the bug is fixed. Nothing
        of the failing steps runs again: the letter names only what the broker proved."""
        vendor = delivery.user_id
        about = About(office=delivery.office, vendor=vendor)
        message = f"The hub failed on this message {delivery.crashes} time(s); see its log."
        verdict = Verdict(
            about=about, outcome=Outcome.DEAD, reason=OutcomeReason.WRITER_FAILED, message=message
        )
        return await self.bookkeeping.run(self.settler.settle(delivery, verdict))

    async def _decide(self, delivery: Delivery) -> Verdict:
        about = identify(delivery, self.registry)
        intent, about = validate(delivery, about)
        authorize(self.registry, about, intent)
        claimed = await claim(
            self.ledger, delivery, about, intent, self.clock(),
            writer_id=self.reconciler.own.writer_id,
            patience_s=self.patience.seconds(about.office),
        )
        request = await resolve(self.ledger, claimed.about, intent.payload)
        claimed = await self.reconciler.settle_doubt(claimed, intent, request)
        return await self.applier.apply(claimed, intent, request)
