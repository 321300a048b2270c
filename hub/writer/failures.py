"""What a failed Open Dental attempt means for the intent: the four parts of a retry.

Classify (the client's error class), count (the ledger's attempt number), delay (backoff.py),
exhaust (``dead`` with ``retries_exhausted`` after ``max_attempts``). Pure: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import OutcomeReason
from hub.errors import AuthError, PermanentError, ThrottledError, TransientError
from hub.writer.backoff import RetryPolicy
from hub.writer.verdict import About, Outcome, Verdict

ApiFailure = PermanentError | AuthError | TransientError
API_FAILURES = (PermanentError, AuthError, TransientError)


@dataclass(frozen=True, kw_only=True)
class AfterFailure:
    verdict: Verdict
    release: bool  # the attempt surely had no effect: the ledger takes it back (received)


def after_failure(about: About, error: ApiFailure, policy: RetryPolicy) -> AfterFailure:
    attempt = about.attempt or 1
    if isinstance(error, PermanentError):
        return _final(about, Outcome.REJECTED, OutcomeReason.OD_REJECTED, str(error))
    if isinstance(error, AuthError):
        # Not the intent's fault: nothing is dead-lettered, the lane waits for the key.
        pause_s = policy.auth_pause.ceiling_s(attempt)
        return _again(about, Outcome.LANE_PAUSED, pause_s, str(error))
    if error.maybe_applied:
        message = f"The request may have reached Open Dental ({error}); it is not sent again "
        message += "until it is reconciled."
        return _final(about, Outcome.DEAD, OutcomeReason.NEEDS_RECONCILE, message)
    if isinstance(error, ThrottledError):
        # The client already deferred the key's next slot; the lane waits as long.
        return _again(about, Outcome.RETRY_LATER, error.retry_after_s or 0.0, str(error))
    if attempt >= policy.max_attempts:
        message = f"Open Dental failed {attempt} attempt(s); the last said: {error}"
        return _final(about, Outcome.DEAD, OutcomeReason.RETRIES_EXHAUSTED, message)
    delay_s = policy.retry.delay_s(attempt, policy.draw)
    return _again(about, Outcome.RETRY_LATER, delay_s, str(error))


def _final(about: About, outcome: Outcome, reason: OutcomeReason, message: str) -> AfterFailure:
    verdict = Verdict(about=about, outcome=outcome, reason=reason, message=message)
    return AfterFailure(verdict=verdict, release=False)


def _again(about: About, outcome: Outcome, delay_s: float, message: str) -> AfterFailure:
    verdict = Verdict(about=about, outcome=outcome, delay_s=delay_s, message=message)
    return AfterFailure(verdict=verdict, release=True)
