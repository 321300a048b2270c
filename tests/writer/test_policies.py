"""The writer's pure policies: backoff, what a failure means, which call a contract makes, which
decisions are final, and what a dead letter's headers may say."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from contracts import FieldError, OdRow, OutcomeReason, OutcomeStatus, known_contracts
from hub import names
from hub.errors import AuthError, PermanentError, ThrottledError, TransientError
from hub.ledger import Charge
from hub.writer.application import CALLS
from hub.writer.decisions import Final, Hold, HoldCause, IntentIdentity
from hub.writer.finishing import dead_letter_headers, outcome_event
from hub.writer.retrying import ApiFailure, AttemptTimedOut, Backoff, Budget, RetryPolicy

NOW = datetime(2030, 1, 1, tzinfo=UTC)
POLICY = RetryPolicy(
    max_attempts=5,
    max_retry_s=600.0,
    retry=Backoff(base_s=1.0, cap_s=30.0),
    auth_pause=Backoff(base_s=10.0, cap_s=60.0),
    draw=lambda: 0.5,
)


@pytest.mark.parametrize(
    ("attempt", "ceiling_s"), [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (500, 30.0)]
)
def test_the_backoff_doubles_per_attempt_up_to_its_cap(attempt: int, ceiling_s: float) -> None:
    # Given a backoff of 1 s doubling, capped at 30 s
    backoff = Backoff(base_s=1.0, cap_s=30.0)
    # When asked for an attempt's delay with the draws at both ends and in the middle
    delays = [backoff.delay_s(attempt, _fixed(draw)) for draw in (0.0, 0.5, 0.999)]
    # Then each is the draw's share of the capped ceiling: full jitter, a pure function
    assert delays == [0.0, ceiling_s * 0.5, ceiling_s * 0.999]


def _fixed(draw: float) -> Callable[[], float]:
    return lambda: draw


def _about(attempt: int) -> IntentIdentity:
    return IntentIdentity(
        office="office-1", vendor="acme", vendor_known=True, intent_id=7, attempt=attempt
    )


DOWN = TransientError("eConnector is not running.", status=400)
REFUSED = TransientError("ConnectError")  # nothing reached Open Dental
FRESH = Budget()
PAUSED = "paused"  # a hold that pauses the office's lane
RETRY = "retry"  # a hold of this intent alone


@pytest.mark.parametrize(
    ("error", "attempt", "budget", "outcome", "reason", "release", "cause", "delay_s"),
    [
        (PermanentError("Patient already exists.", status=400), 1, FRESH,
         OutcomeStatus.REJECTED, OutcomeReason.OD_REJECTED, None, None, 0.0),
        (AuthError("Customer key is disabled."), 2, FRESH,
         PAUSED, None, Charge.FREE, HoldCause.AUTH, 20.0),
        (AuthError("Customer key is disabled."), 90, Budget(retrying_s=1e6),
         PAUSED, None, Charge.FREE, HoldCause.AUTH, 60.0),
        (DOWN, 2, FRESH,
         PAUSED, None, Charge.FREE, HoldCause.OPEN_DENTAL_DOWN, 1.0),
        (DOWN, 40, Budget(free_attempts=39, retrying_s=60.0),
         PAUSED, None, Charge.FREE, HoldCause.OPEN_DENTAL_DOWN, 15.0),
        (DOWN, 3, Budget(free_attempts=2, retrying_s=72 * 3600.0),
         PAUSED, None, Charge.FREE, HoldCause.OPEN_DENTAL_DOWN, 2.0),
        (REFUSED, 1, FRESH,
         PAUSED, None, Charge.FREE, HoldCause.OPEN_DENTAL_DOWN, 0.5),
        (TransientError("Bad Gateway", status=502), 2, FRESH,
         RETRY, None, Charge.COUNTED, HoldCause.TRANSIENT, 1.0),
        (TransientError("Bad Gateway", status=502), 5, FRESH,
         OutcomeStatus.DEAD, OutcomeReason.RETRIES_EXHAUSTED, None, None, 0.0),
        (TransientError("Bad Gateway", status=502), 6, Budget(free_attempts=2),
         RETRY, None, Charge.COUNTED, HoldCause.TRANSIENT, 15.0),
        (TransientError("An error has occurred.", status=500, maybe_applied=True), 5, FRESH,
         RETRY, None, None, HoldCause.MAYBE_APPLIED, 8.0),
        (AttemptTimedOut("no reply", maybe_applied=True), 1, FRESH,
         RETRY, None, None, HoldCause.TIMEOUT, 0.5),
        (AttemptTimedOut("no reply", maybe_applied=False), 1, FRESH,
         RETRY, None, Charge.COUNTED, HoldCause.TIMEOUT, 0.5),
        (ThrottledError("Too many requests", status=429, retry_after_s=3.0), 5, FRESH,
         RETRY, None, Charge.CLOCKED, HoldCause.THROTTLED, 3.0),
    ],
    ids=["permanent", "401", "401-never-exhausts", "unreachable", "unreachable-probes-are-free",
         "unreachable-for-days-never-exhausts", "refused", "transient", "exhausted",
         "earlier-round-free", "maybe-applied", "timeout-after-sending",
         "timeout-before-sending", "throttled"],
)
def test_each_api_failure_means_one_thing_for_the_intent(
    error: ApiFailure, attempt: int, budget: Budget, outcome: OutcomeStatus | str,
    reason: OutcomeReason | None, release: Charge | None, cause: HoldCause | None,
    delay_s: float,
) -> None:
    # Given a failed attempt and what the intent's retries used before it
    # When the writer classifies it
    after = POLICY.after_failure(_about(attempt), error, budget)
    # Then the decision, how the attempt is released, the cause and the wait follow from it
    decision = after.decision
    if isinstance(decision, Final):
        assert (decision.status, decision.reason, after.release) == (outcome, reason, release)
        assert (cause, delay_s) == (None, 0.0)
    else:
        held = PAUSED if decision.pauses_lane else RETRY
        assert (held, None, after.release) == (outcome, reason, release)
        assert (decision.cause, decision.delay_s) == (cause, delay_s)


def test_every_served_contract_has_an_api_call() -> None:
    # Given the contracts the hub serves, Then each maps to exactly one client call
    assert set(CALLS) == set(known_contracts())


def test_only_rejected_and_dead_intents_are_dead_lettered() -> None:
    # Given a final decision of each status, new and repeated
    decisions = [
        Final(intent=_about(1), status=status, duplicate=duplicate)
        for status in OutcomeStatus for duplicate in (False, True)
    ]
    # Then only a new rejected or dead one is dead-lettered (a duplicate's first one was)
    lettered = {(d.status, d.duplicate) for d in decisions if d.dead_lettered}
    assert lettered == {(OutcomeStatus.REJECTED, False), (OutcomeStatus.DEAD, False)}


@pytest.mark.parametrize("cause", list(HoldCause))
def test_a_hold_pauses_the_lane_only_when_it_is_not_the_intent_s_doing(cause: HoldCause) -> None:
    # Given a hold of each cause
    hold = Hold(intent=_about(1), cause=cause)
    # Then it pauses the office's lane exactly for a 401, an office away, or the hub's own parts
    pausing = {HoldCause.AUTH, HoldCause.OPEN_DENTAL_DOWN, HoldCause.HUB,
               HoldCause.RECONCILE_UNAVAILABLE}
    assert hold.pauses_lane is (cause in pausing)


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
