from datetime import datetime

import pytest

from hub.ledger import (
    Conflict,
    Finish,
    Finished,
    Fresh,
    InDoubt,
    IntentStatus,
    MySqlLedger,
    Resumed,
)
from tests.ledger.builders import HASH_A, HASH_B, applied, claim_of, new_key, rejected


async def test_a_new_key_is_fresh(ledger: MySqlLedger) -> None:
    # Given a key never seen
    key = new_key()
    # When it is claimed
    result = await ledger.claim(claim_of(key))
    # Then it is Fresh and the row waits in status received
    assert isinstance(result, Fresh)
    story = await ledger.story("vendor-a", key)
    assert story is not None
    assert story.intent.id == result.intent_id
    assert story.intent.status is IntentStatus.RECEIVED
    assert (story.intent.attempts, story.intent.deliveries) == (0, 1)


async def test_a_redelivery_before_any_attempt_resumes(ledger: MySqlLedger) -> None:
    # Given a claimed intent that never began an attempt
    key = new_key()
    fresh = await ledger.claim(claim_of(key))
    # When the same message is delivered again
    again = await ledger.claim(claim_of(key))
    # Then it resumes the same intent, and the delivery is counted
    assert again == Resumed(intent_id=fresh.intent_id, attempts=0)
    story = await ledger.story("vendor-a", key)
    assert story is not None and story.intent.deliveries == 2


async def test_a_redelivery_during_an_attempt_is_in_doubt(ledger: MySqlLedger) -> None:
    # Given an intent whose attempt began (an API call may have happened)
    key = new_key()
    fresh = await ledger.claim(claim_of(key))
    assert await ledger.begin_attempt(fresh.intent_id) == 1
    # When the same message is delivered again
    again = await ledger.claim(claim_of(key))
    # Then the ledger says it is in doubt, with when the attempt started
    assert isinstance(again, InDoubt)
    assert (again.intent_id, again.attempts) == (fresh.intent_id, 1)
    story = await ledger.story("vendor-a", key)
    assert story is not None and story.intent.attempt_started_at == again.attempt_started_at


@pytest.mark.parametrize("finish", [applied(41), rejected()], ids=["applied", "rejected"])
async def test_a_duplicate_of_a_finished_intent_repeats_its_outcome(
    ledger: MySqlLedger, finish: Finish
) -> None:
    # Given a finished intent
    key = new_key()
    fresh = await ledger.claim(claim_of(key))
    assert await ledger.finish(fresh.intent_id, finish)
    # When the same message is delivered again
    again = await ledger.claim(claim_of(key))
    # Then the first outcome comes back verbatim
    assert again == Finished(
        intent_id=fresh.intent_id,
        status=finish.status,
        outcome_json=finish.outcome_json,
    )


@pytest.mark.parametrize("stage", ["received", "attempting", "applied"])
async def test_same_key_with_another_payload_conflicts_at_every_stage(
    ledger: MySqlLedger, stage: str
) -> None:
    # Given an intent at the given stage
    key = new_key()
    fresh = await ledger.claim(claim_of(key, payload_hash=HASH_A))
    if stage != "received":
        await ledger.begin_attempt(fresh.intent_id)
    if stage == "applied":
        await ledger.finish(fresh.intent_id, applied(7))
    # When the key arrives with a different payload
    result = await ledger.claim(claim_of(key, payload_hash=HASH_B))
    # Then it conflicts and the original intent is untouched
    assert result == Conflict(intent_id=fresh.intent_id)
    story = await ledger.story("vendor-a", key)
    assert story is not None
    assert (story.intent.payload_hash, story.intent.status.value) == (HASH_A, stage)


@pytest.mark.parametrize("variant", ["KEY-1", "key-1 ", "key-1\u00a0", "kéy-1", "key-1x"])
async def test_keys_are_compared_byte_exactly(ledger: MySqlLedger, variant: str) -> None:
    # Given an intent with key "key-1"
    await ledger.claim(claim_of("key-1"))
    # When a key differing only in case, trailing space or accent is claimed
    result = await ledger.claim(claim_of(variant))
    # Then it is another intent
    assert isinstance(result, Fresh)


async def test_the_same_key_from_another_vendor_is_another_intent(ledger: MySqlLedger) -> None:
    # Given vendor A's intent
    key = new_key()
    first = await ledger.claim(claim_of(key, vendor="vendor-a"))
    # When vendor B uses the same key
    second = await ledger.claim(claim_of(key, vendor="vendor-b"))
    # Then both are fresh and distinct
    assert isinstance(second, Fresh) and second.intent_id != first.intent_id


def test_a_claim_refuses_a_naive_time_and_a_malformed_hash() -> None:
    # Given malformed claims, When built, Then they are refused before any SQL
    with pytest.raises(ValueError):
        claim_of("k", received_at=datetime(2025, 1, 1))  # no tzinfo
    with pytest.raises(ValueError):
        claim_of("k", payload_hash="ABC")
    with pytest.raises(ValueError):
        claim_of("k" * 129)
