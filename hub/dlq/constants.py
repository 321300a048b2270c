"""``hub dlq``'s limits and the broker's header names, in one place."""

from __future__ import annotations

DEFAULT_LIMIT = 100  # matches per command, unless --limit says otherwise
DEFAULT_SCAN_MAX_MESSAGES = 10_000  # messages one scan reads (and holds unacked) at most
DEFAULT_SCAN_MAX_S = 30.0  # a scan stops reading after this long
GET_TIMEOUT_S = 10.0  # one basic.get; past it the broker is not answering
CONFIRM_TIMEOUT_S = 10.0  # a replay's publisher confirm

# Headers the broker adds when it dead-letters or redelivers a message (RabbitMQ 3.10).
X_DEATH = "x-death"
EXPIRED = "expired"  # an x-death reason: the message outlived its queue's TTL
X_DELIVERY_COUNT = "x-delivery-count"
BROKER_DEAD_LETTER_PREFIXES = ("x-first-death-", "x-last-death-")
# Every header the writer adds to a dead letter starts so (hub.names.HEADER_*).
WRITER_HEADER_PREFIX = "x-hub-"

# The purge audit's own column sizes (ledger migration 4; the intent columns share the ledger's).
MAX_OS_USER_CHARS = 64
MAX_OPERATOR_CHARS = 128
MAX_QUEUE_CHARS = 255
