"""The writer's own names and fixed numbers.

The dead-letter headers beyond the four of the public contract (hub/names.py) are the writer's:
they help an operator replay or inspect a dead letter, and no vendor depends on them.
"""

from __future__ import annotations

HUB_HEADER_PREFIX = "x-hub-"  # a header so named on a dead letter is the writer's word
HEADER_ERRORS = "x-hub-errors"  # JSON list of {"path", "rule"} for an invalid intent
HEADER_IDEMPOTENCY_KEY = "x-hub-idempotency-key"
HEADER_ATTEMPTS = "x-hub-attempts"  # Open Dental attempts the ledger counted
HEADER_INTENT_ID = "x-hub-intent-id"  # the ledger row, for hub trace

UNKNOWN_CONTRACT = "unknown"  # an outcome's contract when the body named none the hub serves
NO_VENDOR = ""  # x-hub-vendor of a message without user_id

# Failures of the hub's own infrastructure (ledger, broker publish) have no durable count: the
# lane holds the message and retries with this backoff on the number of holds so far.
INFRA_BACKOFF_BASE_S = 0.5
INFRA_BACKOFF_CAP_S = 30.0
