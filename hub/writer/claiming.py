"""Step 4, claim: the ledger says whether this intent is new, resumable, done or in doubt."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from contracts import Intent, OutcomeReason
from hub.ledger import (
    ClaimResult,
    Conflict,
    Finished,
    InDoubt,
    IntentClaim,
    Ledger,
    Resumed,
)
from hub.writer.delivery import Delivery
from hub.writer.verdict import About, Early, Outcome, Verdict

IN_DOUBT_MESSAGE = (
    "An earlier attempt may have reached Open Dental without its result being recorded; "
    "it is not sent again until it is reconciled."
)


async def claim(
    ledger: Ledger, delivery: Delivery, about: About, intent: Intent, now: datetime
) -> About:
    """``about`` with the intent's ledger id; raises ``Early`` unless it may go on."""
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
        )
    )
    return _go_on_or_stop(about, result)


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
    if isinstance(result, InDoubt):
        raise Early(
            Verdict(
                about=replace(claimed, attempt=result.attempts),
                outcome=Outcome.DEAD,
                reason=OutcomeReason.NEEDS_RECONCILE,
                message=IN_DOUBT_MESSAGE,
            )
        )
    if isinstance(result, Resumed):
        return replace(claimed, attempt=result.attempts)
    return claimed
