"""The writer's pure policies: backoff, what a failure means, when retries are used up, which
call a contract makes, which decisions are final, and what a run's decision means for its
delivery (acked, held, given up). What a final decision writes (outcome, ledger finish,
dead-letter headers) is in test_finishing.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import OutcomeReason, OutcomeStatus, known_contracts
from hub.errors import AuthError, PermanentError, ThrottledError, TransientError
from hub.ledger import ApiCallRecord, Charge, RetryBudget
from hub.writer.application import CALLS
from hub.writer.decisions import Final, Hold, HoldCause, IntentIdentity
from hub.writer.office_queue import Delivery, KeptProperties
from hub.writer.pipeline import Decided, GiveUp, Held, after_run
from hub.writer.retrying import ApiFailure, AttemptTimedOut, Backoff, Budget, RetryPolicy

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
        (TransientError("Bad Gateway", status=502), 2, Budget(retrying_s=600.0),
         OutcomeStatus.DEAD, OutcomeReason.RETRIES_EXHAUSTED, None, None, 0.0),
        (ThrottledError("Too many requests", status=429, retry_after_s=3.0), 2,
         Budget(retrying_s=600.0),
         OutcomeStatus.DEAD, OutcomeReason.RETRIES_EXHAUSTED, None, None, 0.0),
    ],
    ids=["permanent", "401", "401-never-exhausts", "unreachable", "unreachable-probes-are-free",
         "unreachable-for-days-never-exhausts", "refused", "transient", "exhausted",
         "earlier-round-free", "maybe-applied", "timeout-after-sending",
         "timeout-before-sending", "throttled", "out-of-time", "throttled-out-of-time"],
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


@pytest.mark.parametrize(
    ("counted", "retrying_s", "aged_s", "exhausted"),
    [
        (4, None, 0.0, False),
        (5, None, 0.0, True),
        (1, 500.0, 0.0, False),
        (1, 600.0, 0.0, True),
        # The retry clock keeps running after the claim read it: 2 s more is past the limit
        (1, 599.0, 2.0, True),
        # A clock that never started (only free attempts so far) has used nothing, however old
        (1, None, 1e6, False),
    ],
    ids=["attempts-left", "attempts-used-up", "time-left", "time-used-up", "time-ran-on",
         "clock-not-started"],
)
def test_retries_are_used_up_by_attempts_or_by_time_whichever_comes_first(
    counted: int, retrying_s: float | None, aged_s: float, exhausted: bool
) -> None:
    # Given a policy of 5 counted attempts or 600 s of retrying, and what an intent has used
    # (its retry clock as the ledger read it ``aged_s`` ago)
    budget = Budget(retrying_s=retrying_s, read_at_s=time.monotonic() - aged_s)
    # When asked whether to give up after its last counted attempt failed
    verdict = POLICY.give_up(_about(counted), budget, counted, "the last said: Bad Gateway")
    # Then it is dead (retries exhausted, saying how it ended) exactly when either is used up
    assert (verdict is not None) is exhausted
    if verdict is not None:
        assert (verdict.status, verdict.reason) == (
            OutcomeStatus.DEAD, OutcomeReason.RETRIES_EXHAUSTED
        )
        assert verdict.dead_lettered and verdict.message is not None
        assert verdict.message.endswith("the last said: Bad Gateway")


@pytest.mark.parametrize(
    ("attempt", "free_before", "charge", "counted"),
    [
        (1, 0, Charge.COUNTED, 1),
        (1, 0, Charge.FREE, 0),
        (1, 0, Charge.CLOCKED, 0),
        (7, 4, Charge.COUNTED, 3),
        (7, 4, Charge.FREE, 2),
    ],
)
def test_only_counted_attempts_count_against_the_limit(
    attempt: int, free_before: int, charge: Charge, counted: int
) -> None:
    # Given an intent's attempt number and the free attempts before it
    budget = Budget(free_attempts=free_before)
    # When the attempt is released with a charge, Then free and clocked ones are not counted
    assert budget.counted(attempt, charge) == counted


def test_a_budget_is_what_the_ledger_kept_or_fresh() -> None:
    # Given the ledger's record of an intent's retries, and no record at all
    kept = RetryBudget(attempts=6, free_attempts=2, retrying_s=120.0, attempt_age_s=3.0)
    # When each becomes a budget
    budget, fresh = Budget.of(kept), Budget.of(None)
    # Then the record's numbers carry over, and no record is a fresh start
    assert (budget.free_attempts, budget.retrying_s, budget.attempt_age_s) == (2, 120.0, 3.0)
    assert (fresh.free_attempts, fresh.retrying_s, fresh.attempt_age_s) == (0, None, None)
    assert fresh.retrying_now_s() == 0.0 and fresh.attempt_age_now_s() is None
    # And the retry clock and the attempt's age run on from the read, never back
    assert budget.retrying_now_s() >= 120.0 and (budget.attempt_age_now_s() or 0.0) >= 3.0


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


# What a run's decision means for its delivery -------------------------------------------------

CRASH_BACKOFF = Backoff(base_s=0.5, cap_s=4.0)
UNRECORDED = ApiCallRecord(
    attempt=1, method="POST", path="/patients", status=201, latency_s=0.1, od_primary_key=7,
    message=None, started_at=datetime(2030, 1, 1, tzinfo=UTC),
)


def _delivery(**changes: Any) -> Delivery:
    delivery = Delivery(
        office="office-1", body=b"{}", user_id="acme", exchange="hub.intents",
        redelivered=False, properties=KeptProperties(message_id="m-1"),
    )
    return replace(delivery, **changes)


def _after(delivery: Delivery, decision: Final | Hold | None) -> Decided | Held | GiveUp:
    return after_run(delivery, decision, crash_limit=3, crash_backoff=CRASH_BACKOFF)


@pytest.mark.parametrize("status", list(OutcomeStatus))
@pytest.mark.parametrize("duplicate", [False, True])
def test_a_final_decision_and_only_a_final_one_is_acked(
    status: OutcomeStatus, duplicate: bool
) -> None:
    # Given a final decision of any status, new or a repeat
    final = Final(intent=_about(1), status=status, duplicate=duplicate)
    # When its run ends, Then the delivery is decided (acked), as it is
    assert _after(_delivery(), final) == Decided(final=final)


@pytest.mark.parametrize("cause", list(HoldCause))
def test_a_hold_keeps_the_delivery_for_its_delay_and_counts_the_hold(cause: HoldCause) -> None:
    # Given a delivery held once already, and a hold of any cause
    hold = Hold(intent=_about(1), cause=cause, delay_s=2.5)
    # When its run ends
    after = _after(_delivery(held=1), hold)
    # Then it is held, not acked, for the hold's delay and cause, its holds counted
    assert after == Held(delivery=_delivery(held=2), delay_s=2.5, cause=cause.value)


def test_a_hold_carries_the_calls_a_failed_finish_did_not_record() -> None:
    # Given a hold after a finish that could not record the run's API call
    hold = Hold(intent=_about(1), cause=HoldCause.HUB, delay_s=1.0, unrecorded=(UNRECORDED,))
    # When its run ends, Then the held delivery keeps the call for the next final decision
    after = _after(_delivery(), hold)
    assert isinstance(after, Held) and after.delivery.unrecorded == (UNRECORDED,)
    # And a later hold without calls of its own keeps them too
    again = _after(after.delivery, Hold(intent=_about(1), cause=HoldCause.HUB))
    assert isinstance(again, Held) and again.delivery.unrecorded == (UNRECORDED,)


def test_a_crash_is_held_with_a_growing_backoff_until_the_writer_gives_up() -> None:
    # Given a delivery the writer fails on (no decision), run after run
    delivery, afters = _delivery(), []
    for _ in range(3):
        after = _after(delivery, None)
        afters.append(after)
        if isinstance(after, Held | GiveUp):
            delivery = after.delivery
    # Then the first crashes are held with the crash backoff's ceilings, never acked
    assert afters[:2] == [
        Held(delivery=_delivery(held=1, crashes=1), delay_s=0.5, cause=HoldCause.CRASHED.value),
        Held(delivery=_delivery(held=2, crashes=2), delay_s=1.0, cause=HoldCause.CRASHED.value),
    ]
    # And at the crash limit the writer gives up on it (it is dead-lettered as writer_failed)
    assert afters[2] == GiveUp(delivery=_delivery(held=3, crashes=3))
