"""Two writers on two real MariaDB connection pools, racing on the same rows."""

import asyncio

from hub.ledger import Fresh, MySqlLedger, Resumed
from tests.ledger.builders import applied, claim_of, new_key

KEYS = 50


async def test_concurrent_claims_of_a_new_key_make_exactly_one_fresh(
    ledger: MySqlLedger, rival_ledger: MySqlLedger
) -> None:
    # Given many new keys, each delivered to two writers at once
    keys = [new_key() for _ in range(KEYS)]
    # When both writers claim every key concurrently
    results = await asyncio.gather(
        *(writer.claim(claim_of(key)) for key in keys for writer in (ledger, rival_ledger))
    )
    # Then each key has exactly one Fresh, the other writer resumes that same intent
    for pair in zip(results[::2], results[1::2], strict=True):
        kinds = sorted(type(result).__name__ for result in pair)
        assert kinds == [Fresh.__name__, Resumed.__name__]
        assert pair[0].intent_id == pair[1].intent_id
    assert len({result.intent_id for result in results}) == KEYS


async def test_concurrent_attempts_on_one_intent_get_one_attempt_number(
    ledger: MySqlLedger, rival_ledger: MySqlLedger
) -> None:
    # Given intents both writers hold (one Fresh, one Resumed)
    intent_ids = [(await ledger.claim(claim_of(new_key()))).intent_id for _ in range(20)]
    # When both writers begin an attempt on each at once
    results = await asyncio.gather(
        *(writer.begin_attempt(i) for i in intent_ids for writer in (ledger, rival_ledger))
    )
    # Then exactly one of each pair got attempt 1, the other got nothing
    for pair in zip(results[::2], results[1::2], strict=True):
        assert sorted(pair, key=str) == [1, None]


async def test_concurrent_finishes_finish_once(
    ledger: MySqlLedger, rival_ledger: MySqlLedger
) -> None:
    # Given an intent in its attempt
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    await ledger.begin_attempt(intent_id)
    # When two writers finish it at once with different rows
    results = await asyncio.gather(
        ledger.finish(intent_id, applied(1)), rival_ledger.finish(intent_id, applied(2))
    )
    # Then one finish won and the row holds exactly its result
    assert sorted(results) == [False, True]
    story = await ledger.story("vendor-a", key)
    assert story is not None
    assert story.intent.od_primary_key == (1 if results[0] else 2)
