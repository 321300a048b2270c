"""What can go wrong between a vendor and the broker, named by what the vendor does next.

    PublisherError
    ├── PublisherConnectError   the broker is unreachable or refused the login: check the settings
    └── PublishNotConfirmed     the broker did not take one intent; ``reason`` says why:
            refused    the vendor may not publish this routing key (no agreement for the office),
                       or not as this user: sending it again fails the same way
            returned   no queue is bound for the key (the office is not served yet)
            nacked     the broker could not store it (e.g. the office queue is full)
            timeout    no confirm in time (broker down or slow): sending it again is safe

Messages name the intent's routing key and idempotency key, never its payload.
"""

from __future__ import annotations

from enum import StrEnum


class PublisherError(Exception):
    """Base of every error the publisher raises on purpose."""


class PublisherConnectError(PublisherError):
    """The first connection failed; the message names the broker's host, never the password."""


class NotConfirmedReason(StrEnum):
    REFUSED = "refused"
    RETURNED = "returned"
    NACKED = "nacked"
    TIMEOUT = "timeout"


_WHY = {
    NotConfirmedReason.REFUSED: "the broker refused it",
    NotConfirmedReason.RETURNED: "no queue is bound for its routing key (unroutable)",
    NotConfirmedReason.NACKED: "the broker could not store it (nack)",
    NotConfirmedReason.TIMEOUT: "no confirm arrived in time",
}


class PublishNotConfirmed(PublisherError):
    """The broker did not confirm this intent; it may be sent again with the same key."""

    def __init__(
        self,
        *,
        reason: NotConfirmedReason,
        routing_key: str,
        idempotency_key: str,
        detail: str | None = None,
    ) -> None:
        self.reason = reason
        self.routing_key = routing_key
        self.idempotency_key = idempotency_key
        text = f"intent {idempotency_key!r} to {routing_key!r} not confirmed: {_WHY[reason]}"
        super().__init__(text + (f" ({detail})" if detail else ""))
