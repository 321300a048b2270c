"""How long to wait before trying again: capped exponential backoff with full jitter.

The delay is a pure function of the attempt number and one uniform draw in [0, 1), so tests pin
the draw and the lane counts attempts in the ledger (durably), never in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Draw = Callable[[], float]  # uniform in [0, 1), e.g. random.random


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
class RetryPolicy:
    max_attempts: int  # counted Open Dental attempts of one intent before retries_exhausted
    max_retry_s: float  # ... or this long after its retries began, whichever comes first
    retry: Backoff  # after a transient failure, and between probes of an unreachable office
    auth_pause: Backoff  # after a 401: the office's lane pauses, then tries again
    draw: Draw

    def exhausted(self, *, counted_attempts: int, retrying_s: float) -> bool:
        return counted_attempts >= self.max_attempts or retrying_s >= self.max_retry_s
