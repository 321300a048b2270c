import pytest

from contracts import OutcomeStatus
from hub.ledger import (
    Finish,
    Finished,
    IntentStatus,
    MySqlLedger,
    NewRef,
    RefKind,
    Resumed,
)
from tests.ledger.builders import OFFICE, VENDOR, applied, claim_of, new_key


async def test_begin_attempt_numbers_attempts_and_refuses_a_second_holder(
    ledger: MySqlLedger,
) -> None:
    # Given a fresh intent
    intent_id = (await ledger.claim(claim_of(new_key()))).intent_id
    # When an attempt begins, and another begins while it is in flight
    first = await ledger.begin_attempt(intent_id)
    second = await ledger.begin_attempt(intent_id)
    # Then the first is attempt 1 and the second gets nothing
    assert (first, second) == (1, None)


async def test_release_attempt_makes_the_intent_resumable(ledger: MySqlLedger) -> None:
    # Given an intent whose attempt failed in a way known to have had no effect
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    await ledger.begin_attempt(intent_id)
    # When the attempt is released
    released = await ledger.release_attempt(intent_id, "ConnectError")
    # Then a redelivery resumes it, the next attempt is number 2, and the error is kept
    assert released
    assert await ledger.claim(claim_of(key)) == Resumed(intent_id=intent_id, attempts=1)
    assert await ledger.begin_attempt(intent_id) == 2
    story = await ledger.story(VENDOR, key)
    assert story is not None and story.intent.last_error == "ConnectError"


async def test_release_attempt_does_nothing_unless_attempting(ledger: MySqlLedger) -> None:
    # Given a finished intent and one never attempted
    done = (await ledger.claim(claim_of(new_key()))).intent_id
    await ledger.finish(done, applied(3))
    idle = (await ledger.claim(claim_of(new_key()))).intent_id
    # When either is released, Then nothing changes
    assert not await ledger.release_attempt(done, "late")
    assert not await ledger.release_attempt(idle, "early")


async def test_applied_finish_writes_state_and_refs_together(ledger: MySqlLedger) -> None:
    # Given an intent in its attempt
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    await ledger.begin_attempt(intent_id)
    refs = (NewRef(kind=RefKind.PATIENT, ref="pat-77", od_primary_key=501),)
    # When it is finished as applied with a vendor ref
    assert await ledger.finish(intent_id, applied(501, refs=refs))
    # Then the row is applied and the ref resolves to the new PatNum
    story = await ledger.story(VENDOR, key)
    assert story is not None
    assert (story.intent.status, story.intent.od_table) == (IntentStatus.APPLIED, "patient")
    assert story.intent.od_primary_key == 501 and story.intent.finished_at is not None
    assert await ledger.resolve_ref(VENDOR, OFFICE, RefKind.PATIENT, "pat-77") == 501
    assert [(r.kind, r.ref, r.intent_id) for r in story.refs] == [
        (RefKind.PATIENT, "pat-77", intent_id)
    ]


async def test_a_finished_intent_is_never_finished_again(ledger: MySqlLedger) -> None:
    # Given an applied intent
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    first = applied(10, refs=(NewRef(kind=RefKind.PATIENT, ref="p-1", od_primary_key=10),))
    await ledger.finish(intent_id, first)
    # When it is finished again, with another result and another ref
    second = applied(11, refs=(NewRef(kind=RefKind.PATIENT, ref="p-2", od_primary_key=11),))
    again = await ledger.finish(intent_id, second)
    # Then the second finish is refused and changed nothing, refs included
    assert not again
    assert await ledger.claim(claim_of(key)) == Finished(
        intent_id=intent_id, status=OutcomeStatus.APPLIED, outcome_json=first.outcome_json
    )
    assert await ledger.resolve_ref(VENDOR, OFFICE, RefKind.PATIENT, "p-2") is None


def test_only_an_applied_finish_may_carry_refs() -> None:
    # Given a rejected result with a ref, When built, Then it is refused
    with pytest.raises(ValueError):
        Finish(
            status=OutcomeStatus.REJECTED,
            refs=(NewRef(kind=RefKind.PATIENT, ref="p", od_primary_key=1),),
        )
    with pytest.raises(ValueError):
        Finish(status=IntentStatus.ATTEMPTING)  # type: ignore[arg-type]  # refused at run time too


async def test_resolve_ref_is_scoped_to_vendor_office_and_kind(ledger: MySqlLedger) -> None:
    # Given vendor A's appointment ref "a-1" in office-1
    intent_id = (await ledger.claim(claim_of(new_key()))).intent_id
    ref = NewRef(kind=RefKind.APPOINTMENT, ref="a-1", od_primary_key=900)
    await ledger.finish(intent_id, applied(900, od_table="appointment", refs=(ref,)))
    # When it is resolved under each scope
    found = await ledger.resolve_ref(VENDOR, OFFICE, RefKind.APPOINTMENT, "a-1")
    other_vendor = await ledger.resolve_ref("vendor-b", OFFICE, RefKind.APPOINTMENT, "a-1")
    other_office = await ledger.resolve_ref(VENDOR, "office-2", RefKind.APPOINTMENT, "a-1")
    other_kind = await ledger.resolve_ref(VENDOR, OFFICE, RefKind.PATIENT, "a-1")
    # Then only the exact scope finds it
    assert (found, other_vendor, other_office, other_kind) == (900, None, None, None)


async def test_a_ref_keeps_its_first_mapping(ledger: MySqlLedger) -> None:
    # Given a ref mapped by one applied intent
    first = (await ledger.claim(claim_of(new_key()))).intent_id
    await ledger.finish(
        first, applied(1, refs=(NewRef(kind=RefKind.PATIENT, ref="r", od_primary_key=1),))
    )
    # When another intent finishes with the same ref for another row
    second = (await ledger.claim(claim_of(new_key()))).intent_id
    finished = await ledger.finish(
        second, applied(2, refs=(NewRef(kind=RefKind.PATIENT, ref="r", od_primary_key=2),))
    )
    # Then the second intent is still finished, and the ref still names the first row
    assert finished
    assert await ledger.resolve_ref(VENDOR, OFFICE, RefKind.PATIENT, "r") == 1


async def test_rejected_finish_records_reason_and_no_refs(ledger: MySqlLedger) -> None:
    # Given a claimed intent
    key = new_key()
    intent_id = (await ledger.claim(claim_of(key))).intent_id
    # When it is rejected with a very long error
    await ledger.finish(intent_id, Finish(
        status=OutcomeStatus.REJECTED, reason="od_rejected", last_error="x" * 10_000,
    ))
    # Then the reason is kept, the error is cut, and no ref exists
    story = await ledger.story(VENDOR, key)
    assert story is not None
    assert (story.intent.status, story.intent.reason) == (IntentStatus.REJECTED, "od_rejected")
    assert story.intent.last_error is not None and 0 < len(story.intent.last_error) < 10_000
    assert story.refs == ()
