"""The one retry policy: classify a failure, charge it, delay, and give up once exhausted.

    permanent (validation 400, 404, conflict)  rejected at once
    401                                        the lane pauses and probes; never exhausts
    unreachable (refused, eConnector 400)      the lane pauses and probes; never exhausts (an
                                               office's server is off every night)
    throttled (429)                            waits as asked; clocked, not counted
    may have landed (5xx, lost reply, timeout) kept in doubt: reconciled before anything else
    other transient                            retried with backoff; counted and clocked

An intent is exhausted after ``max_attempts`` counted attempts or ``max_retry_s`` of retrying,
whichever comes first, whether the last attempt failed in reply (application) or was found by
reconciliation not to have landed. Attempts and the retry clock are durable (the ledger's
``RetryBudget``), so a restart or another writer goes on where the last one stopped. Delays are
capped exponential backoff with full jitter: a pure function of the attempt number and one
uniform draw, which tests pin. Pure: no I/O here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from contracts import OutcomeReason
from hub.errors import AuthError, PermanentError, ThrottledError, TransientError
from hub.ledger import Charge, RetryBudget
from hub.writer.decisions import PAUSES, Final, Hold, HoldCause, IntentIdentity, dead, rejected

Draw = Callable[[], float]  # uniform in [0, 1), e.g. random.random

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


@dataclass(frozen=True, kw_only=True)
class Backoff:
    base_s: float  # the ceiling of the first delay
    cap_s: float  # no delay exceeds this

    def ceiling_s(self, attempt: int) -> float:
        """``min(cap, base * 2**(attempt-1))``; attempt numbers start at 1."""
        exponent = min(max(attempt, 1) - 1, 62)  # 2**62 already dwarfs any cap
        return min(self.cap_s, self.base_s * 2.0**exponent)

    def delay_s(self, attempt: int, draw: Draw) -> float:
        """Full jitter: uniform in [0, ceiling), so lanes retrying together spread out."""
        return self.ceiling_s(attempt) * draw()


@dataclass(frozen=True, kw_only=True)
class Budget:
    """What an intent's retries had used when it was claimed, aged since on a monotonic clock."""

    free_attempts: int = 0  # attempts that do not count against max_attempts
    retrying_s: float | None = None  # the retry clock at the claim; None: it has not started
    attempt_age_s: float | None = None  # since the latest attempt began, at the claim
    read_at_s: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, ledger: RetryBudget | None) -> Budget:
        if ledger is None:
            return cls()
        return cls(
            free_attempts=ledger.free_attempts,
            retrying_s=ledger.retrying_s,
            attempt_age_s=ledger.attempt_age_s,
        )

    def aged_s(self) -> float:
        return max(0.0, time.monotonic() - self.read_at_s)

    def counted(self, attempt: int, charge: Charge) -> int:
        """Counted attempts once ``attempt`` is released with ``charge``."""
        free_now = 0 if charge is Charge.COUNTED else 1
        return attempt - self.free_attempts - free_now

    def retrying_now_s(self) -> float:
        """The retry clock now; one that had not started starts with this failure, at 0."""
        if self.retrying_s is None:
            return 0.0
        return self.retrying_s + self.aged_s()

    def attempt_age_now_s(self) -> float | None:
        return None if self.attempt_age_s is None else self.attempt_age_s + self.aged_s()


@dataclass(frozen=True, kw_only=True)
class AfterFailure:
    decision: Final | Hold
    # How the ledger takes the attempt back (received again); None keeps it as it is: finished
    # by the decision, or in doubt until it is reconciled.
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


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int  # counted Open Dental attempts of one intent before retries_exhausted
    max_retry_s: float  # ... or this long after its retries began, whichever comes first
    retry: Backoff  # after a transient failure, and between probes of an unreachable office
    auth_pause: Backoff  # after a 401: the office's lane pauses, then tries again
    draw: Draw

    def retry_delay_s(self, attempt: int) -> float:
        return self.retry.delay_s(attempt, self.draw)

    def exhausted(self, *, counted_attempts: int, retrying_s: float) -> bool:
        return counted_attempts >= self.max_attempts or retrying_s >= self.max_retry_s

    def give_up(
        self, identity: IntentIdentity, budget: Budget, counted: int, last: str
    ) -> Final | None:
        """``dead`` (``retries_exhausted``) once the intent's retries are used up, else None;
        ``last`` says how the last counted attempt failed."""
        if not self.exhausted(counted_attempts=counted, retrying_s=budget.retrying_now_s()):
            return None
        message = f"Open Dental failed {counted} counted attempt(s); {last}"
        return dead(identity, OutcomeReason.RETRIES_EXHAUSTED, message)

    def after_failure(
        self, identity: IntentIdentity, error: ApiFailure, budget: Budget
    ) -> AfterFailure:
        """What a failed Open Dental attempt means for the intent."""
        attempt = identity.attempt or 1
        if isinstance(error, PermanentError):
            decision = rejected(identity, OutcomeReason.OD_REJECTED, str(error))
            return AfterFailure(decision=decision, release=None)
        cause = cause_of(error)
        if isinstance(error, TransientError) and error.maybe_applied:
            # Not sent again, not even counted, until reconciliation says whether it landed.
            hold = _hold(identity, cause, self.retry_delay_s(attempt), str(error))
            return AfterFailure(decision=hold, release=None)
        charge = CHARGES[cause]
        if cause not in PAUSES:
            counted = budget.counted(attempt, charge)
            exhausted = self.give_up(identity, budget, counted, f"the last said: {error}")
            if exhausted is not None:
                return AfterFailure(decision=exhausted, release=None)
        hold = _hold(identity, cause, self._delay_s(cause, error, attempt), str(error))
        return AfterFailure(decision=hold, release=charge)

    def _delay_s(self, cause: HoldCause, error: AuthError | TransientError, attempt: int) -> float:
        if cause is HoldCause.AUTH:
            return self.auth_pause.ceiling_s(attempt)
        if isinstance(error, ThrottledError):
            # The client already deferred the key's next slot; the lane waits as long.
            return error.retry_after_s or 0.0
        return self.retry_delay_s(attempt)


def _hold(identity: IntentIdentity, cause: HoldCause, delay_s: float, message: str) -> Hold:
    return Hold(intent=identity, cause=cause, delay_s=delay_s, message=message)
