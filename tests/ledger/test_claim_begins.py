"""A new key's claim may begin its first attempt in the same statement (begin_attempt saved)."""

from __future__ import annotations

from dataclasses import replace

from hub.ledger import Fresh, InDoubt, IntentStatus, MySqlLedger, Resumed
from tests.ledger.builders import VENDOR, claim_of, new_key


async def test_a_new_key_claimed_with_its_attempt_is_attempting(ledger: MySqlLedger) -> None:
    # Given a new key, When it is claimed asking to begin its attempt
    key = new_key()
    result = await ledger.claim(replace(claim_of(key), begin_attempt=True))
    # Then it is fresh, in its first attempt, as begin_attempt would have left it
    assert isinstance(result, Fresh) and result.attempt == 1
    story = await ledger.story(VENDOR, key)
    assert story is not None
    assert (story.intent.status, story.intent.attempts) == (IntentStatus.ATTEMPTING, 1)
    assert story.intent.attempt_started_at is not None
    # And another delivery of it finds that attempt in doubt, as after any begun attempt
    again = await ledger.claim(replace(claim_of(key), begin_attempt=True))
    assert isinstance(again, InDoubt) and again.attempts == 1


async def test_a_key_seen_before_is_never_begun_by_its_claim(ledger: MySqlLedger) -> None:
    # Given a key claimed before without an attempt
    key = new_key()
    first = await ledger.claim(claim_of(key))
    assert isinstance(first, Fresh) and first.attempt is None
    # When it is claimed again asking to begin
    again = await ledger.claim(replace(claim_of(key), begin_attempt=True))
    # Then it is resumed as received, and begin_attempt takes the attempt as usual
    assert isinstance(again, Resumed) and again.attempts == 0
    assert await ledger.begin_attempt(first.intent_id) == 1
