"""What a failed Open Dental attempt means for the intent: the four parts of a retry.

Classify (the client's error, by what the writer does next), count (the ledger's attempts, less
the free ones), delay (backoff.py), exhaust (``dead`` with ``retries_exhausted`` after
``max_attempts`` counted attempts or ``max_retry_s`` of retrying). Pure: no I/O here.

    permanent (validation 400, 404, conflict)  rejected at once
    401                                        the lane pauses and probes; never exhausts
    unreachable (refused, eConnector 400)      the lane pauses and probes; never exhausts (an
                                               office's server is off every night)
    throttled (429)                            waits as asked; clocked, not counted
    may have landed (5xx, lost reply, timeout) kept in doubt: reconciled before anything else
    other transient                            retried with backoff; counted and clocked
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts import OutcomeReason
from hub.errors import AuthError, PermanentError, ThrottledError, TransientError
from hub.ledger import Charge
from hub.writer.backoff import RetryPolicy
from hub.writer.budget import Budget
from hub.writer.verdict import About, HoldCause, Outcome, Verdict

ApiFailure = PermanentError | AuthError | TransientError
API_FAILURES = (PermanentError, AuthError, TransientError)


class AttemptTimedOut(TransientError):
    """The attempt's own time limit ran out (pacing included)."""


CHARGES: Mapping[HoldCause, Charge] = {
    HoldCause.AUTH: Charge.FREE,
    # Free and unclocked: the office being away is not the intent's doing, and a night of it
    # must not use up the retry time the intent has for real failures once the office is back.
    HoldCause.OPEN_DENTAL_DOWN: Charge.FREE,
    HoldCause.THROTTLED: Charge.CLOCKED,
    HoldCause.TIMEOUT: Charge.COUNTED,
    HoldCause.TRANSIENT: Charge.COUNTED,
}
PAUSES = frozenset({HoldCause.AUTH, HoldCause.OPEN_DENTAL_DOWN})


@dataclass(frozen=True, kw_only=True)
class AfterFailure:
    verdict: Verdict
    # How the ledger takes the attempt back (received again); None keeps it as it is: finished
    # by the verdict, or in doubt until it is reconciled.
    release: Charge | None


def cause_of(error: AuthError | TransientError) -> HoldCause:
    if isinstance(error, AuthError):
        return HoldCause.AUTH
    if isinstance(error, ThrottledError):
        return HoldCause.THROTTLED
    if isinstance(error, AttemptTimedOut):
        return HoldCause.TIMEOUT
    if error.maybe_applied:
        return HoldCause.MAYBE_APPLIED
    # Nothing reached Open Dental (no status), or it said the office cannot be reached now (the
    # client makes a 400 transient only for that): the office is down, not this intent wrong.
    if error.status is None or error.status == 400:
        return HoldCause.OPEN_DENTAL_DOWN
    return HoldCause.TRANSIENT


def after_failure(
    about: About, error: ApiFailure, policy: RetryPolicy, budget: Budget
) -> AfterFailure:
    attempt = about.attempt or 1
    if isinstance(error, PermanentError):
        verdict = _final(about, OutcomeReason.OD_REJECTED, str(error), Outcome.REJECTED)
        return AfterFailure(verdict=verdict, release=None)
    cause = cause_of(error)
    if isinstance(error, TransientError) and error.maybe_applied:
        # Not sent again, not even counted, until reconciliation says whether it landed.
        delay_s = policy.retry.delay_s(attempt, policy.draw)
        return AfterFailure(verdict=_hold(about, cause, delay_s, str(error)), release=None)
    charge = CHARGES[cause]
    counted = budget.counted(attempt, charge)
    if cause not in PAUSES and policy.exhausted(
        counted_attempts=counted, retrying_s=budget.retrying_now_s()
    ):
        message = f"Open Dental failed {counted} counted attempt(s); the last said: {error}"
        verdict = _final(about, OutcomeReason.RETRIES_EXHAUSTED, message, Outcome.DEAD)
        return AfterFailure(verdict=verdict, release=None)
    return AfterFailure(
        verdict=_hold(about, cause, _delay_s(cause, error, attempt, policy), str(error)),
        release=charge,
    )


def _delay_s(
    cause: HoldCause, error: AuthError | TransientError, attempt: int, policy: RetryPolicy
) -> float:
    if cause is HoldCause.AUTH:
        return policy.auth_pause.ceiling_s(attempt)
    if isinstance(error, ThrottledError):
        # The client already deferred the key's next slot; the lane waits as long.
        return error.retry_after_s or 0.0
    return policy.retry.delay_s(attempt, policy.draw)


def _final(about: About, reason: OutcomeReason, message: str, outcome: Outcome) -> Verdict:
    return Verdict(about=about, outcome=outcome, reason=reason, message=message)


def _hold(about: About, cause: HoldCause, delay_s: float, message: str) -> Verdict:
    outcome = Outcome.LANE_PAUSED if cause in PAUSES else Outcome.RETRY_LATER
    return Verdict(about=about, outcome=outcome, delay_s=delay_s, cause=cause, message=message)
