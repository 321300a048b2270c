"""A successful call is recorded by the finish itself, in its commit, in one round trip."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hub.errors import LedgerError, TransientError
from hub.ledger import IntentStatus, MySqlLedger, NewRef, RefKind
from hub.ledger.mysql_session import MySqlSession
from hub.settings import MySqlSettings
from tests.ledger.builders import VENDOR, api_call, applied, claim_of, new_key


async def test_a_finish_records_its_calls_in_the_same_commit(ledger: MySqlLedger) -> None:
    # Given an intent in its attempt, with a 500 and then a 201 not yet recorded
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    await ledger.begin_attempt(intent_id)
    calls = (api_call(1, status=500), api_call(1, status=201))
    # When it is finished as applied with them
    assert await ledger.finish(intent_id, replace(applied(7), calls=calls))
    # Then the state and both calls are there, in order
    story = await ledger.story(VENDOR, key)
    assert story is not None
    assert (story.intent.status, story.intent.od_primary_key) == (IntentStatus.APPLIED, 7)
    assert [(c.attempt, c.status) for c in story.api_calls] == [(1, 500), (1, 201)]


async def test_a_finish_with_refs_records_its_calls_too(ledger: MySqlLedger) -> None:
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    await ledger.begin_attempt(intent_id)
    refs = (NewRef(kind=RefKind.PATIENT, ref="p-9", od_primary_key=9),)
    assert await ledger.finish(intent_id, replace(applied(9, refs=refs), calls=(api_call(1),)))
    story = await ledger.story(VENDOR, key)
    assert story is not None
    assert [c.status for c in story.api_calls] == [201]
    assert [r.ref for r in story.refs] == ["p-9"]


async def test_calls_are_kept_when_another_delivery_finished_first(ledger: MySqlLedger) -> None:
    # Given an intent another delivery already finished
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    await ledger.finish(intent_id, applied(3))
    # When this delivery finishes it with the call it made
    again = await ledger.finish(intent_id, replace(applied(4), calls=(api_call(2),)))
    # Then its finish is refused, the first result stands, and its call is on the record
    assert not again
    story = await ledger.story(VENDOR, key)
    assert story is not None
    assert story.intent.od_primary_key == 3
    assert [(c.attempt, c.status) for c in story.api_calls] == [(2, 201)]


async def test_one_round_trip_keeps_nothing_when_a_statement_fails(
    ledger_db: MySqlSettings,
) -> None:
    # Given a session and a marker row that a failing batch would insert first
    session = await MySqlSession.open(
        ledger_db, on_query=lambda name, seconds: None, max_connections=1
    )
    try:
        insert = (
            "INSERT INTO dlq_purges (purged_at, queue, filter_json, message_count)"
            " VALUES (UTC_TIMESTAMP(6), %s, '{}', 0)",
            ("marker-queue",),
        )
        broken = ("UPDATE no_such_table SET x = %s", (1,))
        # When the second statement fails
        with pytest.raises((LedgerError, TransientError)):
            await session.in_one_round_trip("testing", [insert, broken])
        # Then the first was rolled back, and the pool's one connection still works
        async with session.autocommit("checking") as st:
            row = await st.fetch_one(
                "test.check", "SELECT COUNT(*) AS n FROM dlq_purges WHERE queue = %s",
                ("marker-queue",),
            )
        assert row == {"n": 0}
        [reply] = await session.in_one_round_trip("testing", [insert])
        assert reply.affected == 1
    finally:
        await session.close()
