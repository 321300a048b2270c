"""Per-column digests of a row: enough to name the columns a change touched, never a value.

A digest is a keyed HMAC-SHA256 of one column's value, cut to 16 hex digits. The key is random,
made once by the first watch and kept in the hub database (``watch_digest_key``), so a digest of
a birthdate cannot be looked up in a table of every date; 64 bits make two different values of
one column look alike about once in 10^19 comparisons.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from hub.watch.tables import EPOCH_COLUMN, HASH_COLUMN, WatchedTable

DIGEST_HEX = 16


def _canonical(value: object) -> bytes:
    """The value as bytes, its type included so that 0 and "0" differ."""
    if value is None:
        return b"null"
    if isinstance(value, bytes):
        return b"bytes:" + value
    if isinstance(value, datetime | date):
        return f"{type(value).__name__}:{value.isoformat()}".encode()
    if isinstance(value, float | Decimal | int | str):
        return f"{type(value).__name__}:{value}".encode()
    return f"{type(value).__name__}:{value!r}".encode()


@dataclass(frozen=True)
class Digester:
    key: bytes

    def row(self, table: WatchedTable, row: Mapping[str, object]) -> dict[str, str]:
        """Every column's digest but the change stamp's (it changes with every change)."""
        skip = {table.stamp, EPOCH_COLUMN}
        return {
            column: hmac.new(self.key, _canonical(value), hashlib.sha256).hexdigest()[:DIGEST_HEX]
            for column, value in row.items()
            if column not in skip
        }

    def whole(self, digests: Mapping[str, str]) -> str:
        """One digest of every column's: the row's state, whatever its stamp."""
        material = "|".join(f"{name}={digests[name]}" for name in sorted(digests))
        return hmac.new(self.key, material.encode(), hashlib.sha256).hexdigest()[:DIGEST_HEX]


def changed_columns(before: Mapping[str, str] | None, after: Mapping[str, str]) -> tuple[str, ...]:
    """The columns whose digest differs; every column for a row seen for the first time."""
    if before is None:
        return tuple(sorted(after))
    names = set(before) | set(after)
    return tuple(sorted(name for name in names if before.get(name) != after.get(name)))


def stale_hash(table: WatchedTable, columns: tuple[str, ...]) -> bool:
    """A hashed column changed and SecurityHash did not: Open Dental's own integrity check would
    flag the row, so the change did not come through Open Dental or its API."""
    if not table.hashed:
        return False
    return any(name in table.hashed for name in columns) and HASH_COLUMN not in columns
