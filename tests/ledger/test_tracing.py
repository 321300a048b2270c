from hub.ledger import IntentStatus, MySqlLedger, NewRef, RefKind
from tests.ledger.builders import OFFICE, VENDOR, api_call, applied, claim_of, new_key


async def test_story_tells_every_api_call_in_order(ledger: MySqlLedger) -> None:
    # Given an intent that failed once without effect and then succeeded
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    await ledger.begin_attempt(intent_id)
    await ledger.record_api_call(intent_id, api_call(1, status=None))
    await ledger.release_attempt(intent_id, "ConnectError")
    await ledger.begin_attempt(intent_id)
    await ledger.record_api_call(intent_id, api_call(2, status=500))
    await ledger.record_api_call(intent_id, api_call(2, status=201))
    await ledger.finish(intent_id, applied(
        8, refs=(NewRef(kind=RefKind.PATIENT, ref="p-8", od_primary_key=8),)
    ))
    # When its story is told
    story = await ledger.story(VENDOR, key)
    # Then it has the intent, its calls in order with their latency, and the ref it created
    assert story is not None
    assert (story.intent.status, story.intent.attempts) == (IntentStatus.APPLIED, 2)
    assert story.intent.message_id == f"msg-{key}"
    assert [(c.attempt, c.status) for c in story.api_calls] == [(1, None), (2, 500), (2, 201)]
    assert {c.latency_ms for c in story.api_calls} == {12}
    assert [r.ref for r in story.refs] == ["p-8"]


async def test_story_of_an_unknown_key_is_none(ledger: MySqlLedger) -> None:
    # Given no intent, When its story is asked, Then there is none
    assert await ledger.story(VENDOR, new_key()) is None


async def test_long_api_messages_are_cut(ledger: MySqlLedger) -> None:
    # Given an API call whose error text is a whole HTML page
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    await ledger.begin_attempt(intent_id)
    call = api_call(1, status=502)
    long_call = type(call)(**{**call.__dict__, "message": "<html>" + "x" * 5000})
    # When it is recorded
    await ledger.record_api_call(intent_id, long_call)
    # Then the story keeps a cut version of it
    story = await ledger.story(VENDOR, key)
    assert story is not None
    message = story.api_calls[0].message
    assert message is not None and message.startswith("<html>") and len(message) < 5000


async def test_intents_for_row_finds_the_create_and_later_changes(ledger: MySqlLedger) -> None:
    # Given a patient created by one intent and later changed by another
    create = (await ledger.claim(claim_of(new_key()))).intent_id
    await ledger.finish(create, applied(55))
    update = (await ledger.claim(claim_of(new_key(), contract="patient.update"))).intent_id
    await ledger.finish(update, applied(55))
    # And an unrelated row with the same number in another table and another office
    other_table = (await ledger.claim(claim_of(new_key()))).intent_id
    await ledger.finish(other_table, applied(55, od_table="appointment"))
    other_office = (await ledger.claim(claim_of(new_key(), office_id="office-2"))).intent_id
    await ledger.finish(other_office, applied(55))
    # When the hub is asked who touched office-1's patient 55
    intents = await ledger.intents_for_row(OFFICE, "patient", 55)
    # Then both intents come back, oldest first, with their vendor and contract
    assert [(i.id, i.contract, i.vendor) for i in intents] == [
        (create, "patient.create", VENDOR),
        (update, "patient.update", VENDOR),
    ]
