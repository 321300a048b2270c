"""What a final decision writes, computed without a broker or a ledger: the outcome event for
the vendor, the ledger's finish, and the dead letter's headers. That each is published, kept
and acked in its order is shown by the writer's integration tests (test_refusals.py,
test_outcome_outbox.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from contracts import FieldError, OdRow, OutcomeEvent, OutcomeReason, OutcomeStatus
from hub import names
from hub.ledger import ApiCallRecord, NewRef, RefKind
from hub.writer.decisions import Final, IntentIdentity
from hub.writer.finishing import dead_letter_headers, finish_of, outcome_event

NOW = datetime(2030, 1, 1, tzinfo=UTC)
CLAIMED = IntentIdentity(
    office="office-1", message_id="m-1", vendor="acme", vendor_known=True,
    contract="patient.create", version=1, idempotency_key="key-1", correlation_id="corr-1",
    intent_id=7, attempt=2,
)


def _about(attempt: int) -> IntentIdentity:
    return IntentIdentity(
        office="office-1", vendor="acme", vendor_known=True, intent_id=7, attempt=attempt
    )


def _applied() -> Final:
    call = ApiCallRecord(attempt=2, method="POST", path="/api/v1/patients", status=201,
                         latency_s=0.1, od_primary_key=12, message=None, started_at=NOW)
    return Final(
        intent=CLAIMED, status=OutcomeStatus.APPLIED, od=OdRow(table="patient", primary_key=12),
        refs=(NewRef(kind=RefKind.PATIENT, ref="p-1", od_primary_key=12),), calls=(call,),
    )


def test_an_applied_intent_s_outcome_names_the_intent_and_its_row() -> None:
    # Given an applied patient.create
    final = _applied()
    # When its outcome event is made
    event = outcome_event(final, decided_at=NOW)
    # Then it tells the vendor which intent, which row, and when, routed by all four
    assert event == OutcomeEvent(
        vendor="acme", idempotency_key="key-1", office_id="office-1", contract="patient.create",
        version=1, status=OutcomeStatus.APPLIED, reason=None, errors=[],
        od=[OdRow(table="patient", primary_key=12)], message=None, decided_at=NOW,
        correlation_id="corr-1", message_id="m-1",
    )
    assert event.routing_key() == "acme.office-1.patient.create.applied"


def test_a_refusal_of_an_unreadable_body_still_has_an_outcome_for_its_vendor() -> None:
    # Given a known vendor's body refused before its envelope could be read
    final = Final(
        intent=IntentIdentity(
            office="office-1", message_id="m-unreadable", vendor="acme", vendor_known=True
        ),
        status=OutcomeStatus.REJECTED, reason=OutcomeReason.INVALID,
        errors=(FieldError(path="$", rule="json_invalid", message="The message is not JSON."),),
    )
    # When its outcome event is made
    event = outcome_event(final, decided_at=NOW)
    # Then the vendor is told, with the contract unknown and no key or version to name, and
    # which of its messages this answers
    assert event is not None
    assert (event.contract, event.version, event.idempotency_key) == ("unknown", None, "")
    assert event.message_id == "m-unreadable"
    assert (event.status, event.reason) == (OutcomeStatus.REJECTED, OutcomeReason.INVALID)
    assert [(error.path, error.rule) for error in event.errors] == [("$", "json_invalid")]


def test_a_duplicate_repeats_the_first_outcome_marked_as_a_repeat() -> None:
    # Given the first outcome the ledger kept, and a duplicate delivery of the same intent
    first = outcome_event(_applied(), decided_at=NOW)
    assert first is not None
    resent = replace(CLAIMED, message_id="m-2")
    again = Final(intent=resent, status=OutcomeStatus.APPLIED, duplicate=True,
                  repeat_json=first.to_json())
    lost = Final(intent=CLAIMED, status=OutcomeStatus.APPLIED, duplicate=True)
    # When their outcome events are made
    # Then the first one is repeated as it was, marked duplicate and answering the message
    # that repeated it; with none kept, none is made
    assert outcome_event(again, decided_at=datetime(2031, 1, 1, tzinfo=UTC)) == (
        first.model_copy(update={"duplicate": True, "message_id": "m-2"})
    )
    assert outcome_event(lost, decided_at=NOW) is None
    # And neither is dead-lettered again
    assert not again.dead_lettered and not lost.dead_lettered


def test_the_ledger_finish_of_an_applied_intent_keeps_its_row_refs_calls_and_outcome() -> None:
    # Given an applied intent and its outcome event
    final = _applied()
    event = outcome_event(final, decided_at=NOW)
    # When its ledger finish is made
    finish = finish_of(final, event)
    # Then it records the row, the vendor's new ref, the calls and the event to repeat, and no
    # error
    assert (finish.status, finish.od_table, finish.od_primary_key) == (
        OutcomeStatus.APPLIED, "patient", 12
    )
    assert (finish.refs, finish.calls) == (final.refs, final.calls)
    assert event is not None and finish.outcome_json == event.to_json()
    assert (finish.reason, finish.last_error) == (None, None)


def test_the_ledger_finish_of_a_refusal_keeps_its_reason_and_message() -> None:
    # Given an intent Open Dental refused, and one nobody can be told about
    refused = Final(intent=CLAIMED, status=OutcomeStatus.REJECTED,
                    reason=OutcomeReason.OD_REJECTED, message="Patient already exists.")
    # When their ledger finishes are made
    told = finish_of(refused, outcome_event(refused, decided_at=NOW))
    untold = finish_of(refused, None)
    # Then each keeps the reason's code and the message, and no row
    assert (told.status, told.reason, told.last_error) == (
        OutcomeStatus.REJECTED, "od_rejected", "Patient already exists."
    )
    assert (told.od_table, told.od_primary_key, told.refs) == (None, None, ())
    assert told.outcome_json is not None and untold.outcome_json is None


def test_dead_letter_headers_carry_ids_and_field_paths_only() -> None:
    # Given an invalid intent whose error message mentions its field
    error = FieldError(path="payload.SSN", rule="ssn", message="payload.SSN must be 9 digits.")
    verdict = Final(
        intent=_about(0), status=OutcomeStatus.REJECTED, reason=OutcomeReason.INVALID,
        errors=(error,), message="The intent breaks 1 rule(s) of its contract.",
    )
    # When its dead-letter headers are made
    headers = dead_letter_headers(verdict, dead_lettered_at=NOW)
    # Then they hold the reason, who, where, what, when, and the field paths and rules, no
    # sentences
    assert headers[names.HEADER_REASON] == "invalid"
    assert (headers[names.HEADER_VENDOR], headers[names.HEADER_OFFICE]) == ("acme", "office-1")
    assert json.loads(str(headers["x-hub-errors"])) == [{"path": "payload.SSN", "rule": "ssn"}]
    assert headers["x-hub-dead-lettered-at"] == "2030-01-01T00:00:00+00:00"
    assert "9 digits" not in json.dumps({name: str(value) for name, value in headers.items()})


def test_an_ambiguous_dead_letter_names_its_candidates_by_table_and_key_only() -> None:
    # Given an intent reconciliation could not tell from two rows
    candidates = (OdRow(table="patient", primary_key=12), OdRow(table="patient", primary_key=13))
    verdict = Final(
        intent=_about(1), status=OutcomeStatus.DEAD, reason=OutcomeReason.AMBIGUOUS,
        candidates=candidates, message="two rows fit",
    )
    # When its dead-letter headers are made
    headers = dead_letter_headers(verdict, dead_lettered_at=NOW)
    # Then they name the reason and both candidates, by table and key
    assert headers[names.HEADER_REASON] == "ambiguous"
    assert json.loads(str(headers[names.HEADER_CANDIDATES])) == [
        {"table": "patient", "primary_key": 12}, {"table": "patient", "primary_key": 13}
    ]


def test_no_outcome_is_made_for_a_publisher_the_hub_cannot_route_to() -> None:
    # Given verdicts about a message without user_id and about an unknown broker user
    anonymous = IntentIdentity(office="office-1")
    stranger = IntentIdentity(office="office-1", vendor="someone", vendor_known=False)
    verdicts = [
        Final(intent=about, status=OutcomeStatus.REJECTED, reason=OutcomeReason.UNAUTHORIZED)
        for about in (anonymous, stranger)
    ]
    # Then neither has an outcome event: no vendor queue would take it
    assert [outcome_event(verdict, decided_at=NOW) for verdict in verdicts] == [None, None]


def test_a_dead_letter_without_a_proven_vendor_or_a_claim_says_so() -> None:
    # Given a message refused before anyone was proven to have sent it, or anything claimed
    anonymous = Final(
        intent=IntentIdentity(office="office-1"), status=OutcomeStatus.REJECTED,
        reason=OutcomeReason.UNAUTHENTICATED, message="no user_id",
    )
    # When its dead-letter headers are made
    headers = dead_letter_headers(anonymous, dead_lettered_at=NOW)
    # Then they name no vendor and no contract, no attempt, and no key or intent id
    assert (headers[names.HEADER_VENDOR], headers[names.HEADER_CONTRACT]) == ("", "unknown")
    assert (headers[names.HEADER_REASON], headers[names.HEADER_ATTEMPTS]) == (
        "unauthenticated", 0
    )
    assert names.HEADER_IDEMPOTENCY_KEY not in headers
    assert names.HEADER_INTENT_ID not in headers


def test_a_claimed_intent_s_dead_letter_names_its_key_intent_and_attempts() -> None:
    # Given an intent claimed and tried twice, then given up on
    dead = Final(intent=CLAIMED, status=OutcomeStatus.DEAD,
                 reason=OutcomeReason.RETRIES_EXHAUSTED, message="Open Dental failed")
    # When its dead-letter headers are made
    headers = dead_letter_headers(dead, dead_lettered_at=NOW)
    # Then they name the vendor's key, the ledger's intent and how many attempts it had
    assert (headers[names.HEADER_IDEMPOTENCY_KEY], headers[names.HEADER_INTENT_ID]) == ("key-1", 7)
    assert (headers[names.HEADER_ATTEMPTS], headers[names.HEADER_CONTRACT]) == (
        2, "patient.create"
    )
