"""Step 4, claim: the ledger says whether this intent is new, resumable, done or in doubt.

An operator's replay (a delivery from ``hub.replay``, which no vendor may write to) reopens a
rejected or dead intent with the same payload; a vendor's own resend of it is a duplicate. An
intent left in doubt goes on to reconciliation (reconciling.py) before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from contracts import Intent, OutcomeReason, Payload
from hub import names
from hub.ledger import (
    ClaimResult,
    Conflict,
    Finished,
    Fresh,
    InDoubt,
    IntentClaim,
    Ledger,
)
from hub.writer.budget import Budget
from hub.writer.delivery import Delivery
from hub.writer.verdict import About, Early, Outcome, Verdict


@dataclass(frozen=True, kw_only=True)
class OwnAttempts:
    """This writer process's attempts: the ledger names the writer that began each attempt, and
    the process knows which of its own are still running. An attempt in doubt that is this
    writer's and no longer running is over: it is reconciled at once, never waited out."""

    writer_id: str
    running: set[int] = field(default_factory=set)  # intent ids with an attempt under way here

    def over(self, doubt: InDoubt) -> bool:
        return doubt.attempt_writer == self.writer_id and doubt.intent_id not in self.running


@dataclass(frozen=True, kw_only=True)
class Claimed:
    """A claimed intent that may go on, with what its retries have used so far."""

    about: About
    budget: Budget
    doubt: InDoubt | None = None  # an earlier attempt may have landed: reconcile first
    begun: bool = False  # the claim began the first attempt itself (``about.attempt`` is 1)
    resent: bool = False  # reconciled: this attempt sends again one that was in doubt


async def claim(
    ledger: Ledger,
    delivery: Delivery,
    about: About,
    intent: Intent,
    now: datetime,
    *,
    writer_id: str,
    patience_s: float = 0.0,
) -> Claimed:
    """The claimed intent; raises ``Early`` unless it may go on. ``patience_s``: how long the
    claim may wait to be committed with other lanes' units."""
    assert about.vendor is not None  # authorization refused every message without a vendor
    result = await ledger.claim(
        IntentClaim(
            vendor=about.vendor,
            idempotency_key=intent.idempotency_key,
            payload_hash=intent.payload_hash(),
            contract=intent.contract,
            contract_version=intent.version,
            office_id=about.office,
            message_id=delivery.message_id,
            correlation_id=intent.correlation_id,
            received_at=now,
            replayed=delivery.exchange == names.REPLAY_EXCHANGE,
            begin_attempt=_nothing_to_look_up(intent.payload),
            writer_id=writer_id,
        ),
        patience_s=patience_s,
    )
    claimed = _go_on_or_stop(about, result)
    if isinstance(result, Fresh):
        begun = result.attempt is not None
        about = replace(claimed, attempt=result.attempt) if begun else claimed
        return Claimed(about=about, budget=Budget(), begun=begun)
    budget = Budget.of(await ledger.retry_budget(result.intent_id))
    doubt = result if isinstance(result, InDoubt) else None
    return Claimed(about=claimed, budget=budget, doubt=doubt)


def _nothing_to_look_up(payload: Payload) -> bool:
    """Whether the request is known before any ledger read (no vendor ref to resolve): then a
    new intent's claim begins its first attempt too, and nothing stands between that and the
    request but pacing, which an abandoned attempt releases."""
    subject = payload.subject()
    return subject is None or subject.ref is None


def _go_on_or_stop(about: About, result: ClaimResult) -> About:
    if isinstance(result, Conflict):
        # The key belongs to another intent: its row is left alone, so no intent_id here.
        raise Early(
            Verdict(
                about=about,
                outcome=Outcome.REJECTED,
                reason=OutcomeReason.IDEMPOTENCY_CONFLICT,
                message="The idempotency key was already used for another payload.",
            )
        )
    claimed = replace(about, intent_id=result.intent_id)
    if isinstance(result, Finished):
        verdict = Verdict(
            about=claimed, outcome=Outcome.DUPLICATE, repeat_json=result.outcome_json
        )
        raise Early(verdict)
    if isinstance(result, Fresh):
        return claimed
    return replace(claimed, attempt=result.attempts or None)
