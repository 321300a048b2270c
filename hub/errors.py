"""The hub's errors, classified by what the writer does next.

    HubError
    ├── TransientError        retry in place with capped, jittered backoff; the office lane waits
    │   └── ThrottledError    Open Dental said "too many requests"; honour its Retry-After
    ├── PermanentError        no retry: the intent is rejected, dead-lettered with its reason
    ├── AuthError             401: pause the office's lane and alert; nothing dead-lettered for it
    ├── IdempotencyConflict   the vendor reused an idempotency key with another payload
    ├── ReadOnlyViolation     anything but one SELECT was offered to the Open Dental database
    └── LedgerError           the hub's own database refused for a reason a retry will not fix

Each adapter (Open Dental client, ledger, broker) translates foreign exceptions into these once,
at its boundary, with ``raise ... from exc``. Messages carry ids and field paths, never patient
data.
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class TransientError(HubError):
    """May succeed if tried again later: 5xx, 504, timeouts, connection errors, eConnector down.

    ``maybe_applied`` is True when the request may have reached Open Dental and been processed
    (the reply was lost, timed out or was a server error): reconcile before sending it again.
    """

    def __init__(
        self, message: str, *, status: int | None = None, maybe_applied: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.maybe_applied = maybe_applied


class ThrottledError(TransientError):
    """Open Dental refused the request for its rate; ``retry_after_s`` says when to come back."""

    def __init__(self, message: str, *, status: int | None, retry_after_s: float | None) -> None:
        super().__init__(message, status=status)
        self.retry_after_s = retry_after_s


class PermanentError(HubError):
    """Will fail the same way every time: validation 400s, 404, 410, conflicts."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(HubError):
    """The developer or customer key is unknown, disabled, or lacks the permission group (401)."""

    def __init__(self, message: str, *, status: int | None = 401) -> None:
        super().__init__(message)
        self.status = status


class IdempotencyConflict(HubError):
    """The same (vendor, idempotency key) arrived with a different payload."""


class ReadOnlyViolation(HubError):
    """Something other than a single SELECT statement was offered to the Open Dental database."""


class LedgerError(HubError):
    """The ledger database refused a statement that no retry fixes: schema missing or behind,
    access denied, a bug. The writer stops without acking; nothing is dead-lettered for it."""
