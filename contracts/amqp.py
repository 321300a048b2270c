"""Broker names and headers that are part of the public contract (the AsyncAPI document's)."""

from __future__ import annotations

INTENTS_EXCHANGE = "hub.intents"
"""Topic exchange vendors publish intents to, routing key ``<office>.<contract>``."""
OUTCOMES_EXCHANGE = "hub.outcomes"
"""Topic exchange of outcome events, routing key ``<vendor>.<office>.<contract>.<status>``."""
DEAD_LETTER_EXCHANGE = "hub.dlx"
"""Where the hub sends rejected and dead intents, with the headers below."""
DEAD_LETTER_QUEUE = "hub.dead"
"""The queue bound to ``hub.dlx``, holding every rejected and dead intent until replayed, purged,
or past the hub's retention (``HUB_DEAD_RETENTION_DAYS``)."""

HEADER_REASON = "x-hub-reason"
HEADER_VENDOR = "x-hub-vendor"
HEADER_OFFICE = "x-hub-office"
HEADER_CONTRACT = "x-hub-contract"

CONTENT_TYPE = "application/json"
PERSISTENT = 2
"""AMQP delivery_mode of a message that survives a broker restart."""
