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
# when present (the broker's own poison dead letters carry none of them, only `x-death`). They
# help an operator replay or inspect a dead letter; no vendor depends on them.
HEADER_PREFIX = "x-hub-"  # a header so named on a writer's dead letter is the hub's word
HEADER_IDEMPOTENCY_KEY = "x-hub-idempotency-key"
HEADER_ERRORS = "x-hub-errors"  # JSON list of {"path", "rule"} for an invalid intent
HEADER_ATTEMPTS = "x-hub-attempts"  # Open Dental attempts the ledger counted
HEADER_DEAD_LETTERED_AT = "x-hub-dead-lettered-at"  # RFC 3339
HEADER_INTENT_ID = "x-hub-intent-id"  # the ledger row, for hub trace
HEADER_CANDIDATES = "x-hub-candidates"  # JSON list of {"table", "primary_key"}: ambiguous rows

# Where `hub dlq replay` re-publishes an operator's replay: bound to every office queue like
# hub.intents, but only the hub's own broker user may write to it (a vendor's permissions name
# hub.intents alone), so the writer trusts a delivery from it as an operator's decision.
REPLAY_EXCHANGE = "hub.replay"

# hub.dead's retention (hub/dlq/retention.py): a policy of this name gives hub.dead a message
# TTL and dead-letters what expires to this exchange, bound to the queue of the same name; the
# writer records each expiry by intent id (hub/dlq/expiry_recorder.py) and drops the body.
RETENTION_POLICY = "hub-dead-retention"
EXPIRED_EXCHANGE = "hub.dead.expired"
EXPIRED_QUEUE = "hub.dead.expired"

__all__ = [
    "DEAD_LETTER_EXCHANGE",
    "DEAD_LETTER_QUEUE",
    "EXPIRED_EXCHANGE",
    "EXPIRED_QUEUE",
    "HEADER_ATTEMPTS",
    "HEADER_CANDIDATES",
    "HEADER_CONTRACT",
    "HEADER_DEAD_LETTERED_AT",
    "HEADER_ERRORS",
    "HEADER_IDEMPOTENCY_KEY",
    "HEADER_INTENT_ID",
    "HEADER_OFFICE",
    "HEADER_PREFIX",
    "HEADER_REASON",
    "HEADER_VENDOR",
    "INTENTS_EXCHANGE",
    "OUTCOMES_EXCHANGE",
    "REPLAY_EXCHANGE",
    "RETENTION_POLICY",
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
