"""Every exchange, queue, routing key and header name the hub uses on the broker.

Nothing else spells these: the topology declares them, the writer and vendors' permissions use them.
Office ids and vendor names match ``^[a-z0-9][a-z0-9-]{0,62}$`` (the registry checks it), so they
never contain a routing-key dot or a regex metacharacter other than ``-``.
"""

from __future__ import annotations

# The exchanges, the dead-letter queue and the headers are part of the public contract with
# vendors (the AsyncAPI document is generated from contracts.amqp); the hub uses the same names.
from contracts.amqp import (
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_QUEUE,
    HEADER_CONTRACT,
    HEADER_OFFICE,
    HEADER_REASON,
    HEADER_VENDOR,
    INTENTS_EXCHANGE,
    OUTCOMES_EXCHANGE,
)

# More dead-letter headers the writer may add beside the four public ones; `hub dlq` reads them
# when present (the broker's own poison dead letters carry none of them, only `x-death`).
HEADER_IDEMPOTENCY_KEY = "x-hub-idempotency-key"
HEADER_ERRORS = "x-hub-errors"
HEADER_ATTEMPTS = "x-hub-attempts"
HEADER_DEAD_LETTERED_AT = "x-hub-dead-lettered-at"

__all__ = [
    "DEAD_LETTER_EXCHANGE",
    "DEAD_LETTER_QUEUE",
    "HEADER_ATTEMPTS",
    "HEADER_CONTRACT",
    "HEADER_DEAD_LETTERED_AT",
    "HEADER_ERRORS",
    "HEADER_IDEMPOTENCY_KEY",
    "HEADER_OFFICE",
    "HEADER_REASON",
    "HEADER_VENDOR",
    "INTENTS_EXCHANGE",
    "OUTCOMES_EXCHANGE",
    "dead_letter_key",
    "intent_key",
    "office_binding",
    "office_queue",
    "outcome_key",
    "outcome_queue",
    "vendor_binding",
]


def office_queue(office: str) -> str:
    return f"hub.office.{office}"


def outcome_queue(vendor: str) -> str:
    return f"hub.outcomes.{vendor}"


def intent_key(office: str, contract: str) -> str:
    return f"{office}.{contract}"


def outcome_key(vendor: str, office: str, contract: str, status: str) -> str:
    return f"{vendor}.{office}.{contract}.{status}"


def dead_letter_key(office: str) -> str:
    """The key of an office's dead letters on ``hub.dlx``: it keeps the office for replay."""
    return f"dead.{office}"


def office_binding(office: str) -> str:
    """Binds an office queue to every contract of that office on ``hub.intents``."""
    return f"{office}.#"


def vendor_binding(vendor: str) -> str:
    """Binds a vendor's outcome queue to all its outcomes on ``hub.outcomes``."""
    return f"{vendor}.#"
