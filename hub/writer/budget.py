"""An intent's retry budget: what the ledger counted when the message was claimed, aged since.

Attempts and the retry clock are durable (ledger), so a restart or another writer goes on where
the last one stopped; only the seconds since the claim are measured here, on a monotonic clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hub.ledger import Charge, RetryBudget


def _now_s() -> float:
    return time.monotonic()


@dataclass(frozen=True, kw_only=True)
class Budget:
    free_attempts: int = 0  # attempts that do not count against max_attempts
    retrying_s: float | None = None  # the retry clock at the claim; None: it has not started
    attempt_age_s: float | None = None  # since the latest attempt began, at the claim
    read_at_s: float = field(default_factory=_now_s)

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
        return max(0.0, _now_s() - self.read_at_s)

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
