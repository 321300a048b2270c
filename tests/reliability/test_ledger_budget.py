"""The ledger's side of retries and replays: what a released attempt costs the retry budget, and
an operator's replay reopening only a rejected or dead intent with the same payload."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contracts import OutcomeStatus
from hub.ledger import (
    Charge,
    Conflict,
    Finish,
    Finished,
    Fresh,
    MySqlLedger,
    Resumed,
)
from tests.ledger.builders import HASH_B, applied, claim_of, new_key, rejected


async def _attempted(ledger: MySqlLedger, *charges: Charge) -> int:
    """A claimed intent whose attempts were each released with the given charge."""
    claimed = await ledger.claim(claim_of(new_key()))
    assert isinstance(claimed, Fresh)
    for charge in charges:
        assert await ledger.begin_attempt(claimed.intent_id) is not None
        assert await ledger.release_attempt(claimed.intent_id, "failed", charge)
    return claimed.intent_id


async def test_only_counted_attempts_use_up_attempts_and_only_free_ones_leave_the_clock(
    ledger: MySqlLedger,
) -> None:
    # Given intents whose attempts failed in different ways
    never = await _attempted(ledger)
    free = await _attempted(ledger, Charge.FREE, Charge.FREE)
    mixed = await _attempted(ledger, Charge.CLOCKED, Charge.COUNTED, Charge.CLOCKED)

    # When their retry budgets are read
    budgets = [await ledger.retry_budget(intent_id) for intent_id in (never, free, mixed)]

    # Then a 401's free attempts neither count nor start the retry clock; an unreachable
    # office's run the clock only; Open Dental's own failures count
    assert [(b.attempts, b.counted_attempts) for b in budgets if b] == [(0, 0), (2, 0), (3, 1)]
    assert [b.retrying_s is not None for b in budgets if b] == [False, False, True]
    assert [b.attempt_age_s is not None for b in budgets if b] == [False, True, True]


@pytest.mark.parametrize("finish", [rejected(), replace(rejected(), status=OutcomeStatus.DEAD)],
                         ids=["rejected", "dead"])
async def test_a_replay_reopens_a_rejected_or_dead_intent_for_a_fresh_run(
    ledger: MySqlLedger, finish: Finish
) -> None:
    # Given an intent that ended rejected or dead after two counted attempts
    key = new_key()
    claimed = await ledger.claim(claim_of(key))
    assert isinstance(claimed, Fresh)
    for _ in range(2):
        await ledger.begin_attempt(claimed.intent_id)
        await ledger.release_attempt(claimed.intent_id, "500")
    assert await ledger.finish(claimed.intent_id, finish)

    # When the vendor sends it again, Then it is finished; When an operator replays it
    assert isinstance(await ledger.claim(claim_of(key)), Finished)
    reopened = await ledger.claim(replace(claim_of(key), replayed=True))

    # Then it is resumable, with its earlier attempts free and the retry clock stopped
    assert reopened == Resumed(intent_id=claimed.intent_id, attempts=2)
    budget = await ledger.retry_budget(claimed.intent_id)
    assert budget is not None
    assert (budget.counted_attempts, budget.retrying_s) == (0, None)


async def test_a_replay_leaves_an_applied_intent_or_another_payload_alone(
    ledger: MySqlLedger,
) -> None:
    # Given an applied intent and a rejected one
    done, refused = new_key(), new_key()
    for key, finish in ((done, applied(7)), (refused, rejected())):
        claimed = await ledger.claim(claim_of(key))
        assert isinstance(claimed, Fresh)
        assert await ledger.finish(claimed.intent_id, finish)

    # When both are replayed, the rejected one with another payload
    again = await ledger.claim(replace(claim_of(done), replayed=True))
    other = await ledger.claim(replace(claim_of(refused, payload_hash=HASH_B), replayed=True))

    # Then the applied one is a duplicate and the other a conflict: neither is reopened
    assert isinstance(again, Finished) and again.status is OutcomeStatus.APPLIED
    assert isinstance(other, Conflict)
