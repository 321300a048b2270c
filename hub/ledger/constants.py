"""The ledger's limits and tunables, in one place. Column sizes in the migrations match these."""

from __future__ import annotations

# Column sizes, in characters. Inputs longer than these are refused before any SQL runs.
MAX_VENDOR_CHARS = 64
MAX_IDEMPOTENCY_KEY_CHARS = 128
MAX_OFFICE_ID_CHARS = 64
MAX_CONTRACT_CHARS = 64
MAX_MESSAGE_ID_CHARS = 255
MAX_OD_TABLE_CHARS = 64
MAX_REASON_CHARS = 64
MAX_REF_CHARS = 128
MAX_METHOD_CHARS = 8
PAYLOAD_HASH_HEX_CHARS = 64  # SHA-256 of the canonical JSON, in hex

# Free text is cut, not refused: losing the tail of an error must never lose the intent.
MAX_PATH_CHARS = 255
MAX_API_MESSAGE_CHARS = 500
MAX_LAST_ERROR_CHARS = 2000

DEFAULT_RETENTION_DAYS = 7

# Expired intents are deleted in batches so that no purge holds locks for long.
PURGE_BATCH_ROWS = 500

MIGRATION_LOCK_PREFIX = "hub_migrate"
MIGRATION_LOCK_TIMEOUT_S = 30
MAX_LOCK_NAME_CHARS = 64  # MariaDB's limit for GET_LOCK names
