"""Every exchange, queue, routing key and header name the hub uses on the broker.

Nothing else spells these: the topology declares them, the writer and vendors' permissions use them.
Office ids and vendor names match ``^[a-z0-9][a-z0-9-]{0,62}$`` (the registry checks it), so they
never contain a routing-key dot or a regex metacharacter other than ``-``.
"""

from __future__ import annotations

# Vendors publish intents here; routing key <office>.<contract>.
INTENTS_EXCHANGE = "hub.intents"
# The writer publishes outcome events here; routing key <vendor>.<office>.<contract>.<status>.
OUTCOMES_EXCHANGE = "hub.outcomes"
# Rejected and dead intents, from the writer (with the headers below) or the broker (poison).
DEAD_LETTER_EXCHANGE = "hub.dlx"
DEAD_LETTER_QUEUE = "hub.dead"

HEADER_REASON = "x-hub-reason"
HEADER_VENDOR = "x-hub-vendor"
HEADER_OFFICE = "x-hub-office"
HEADER_CONTRACT = "x-hub-contract"


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
