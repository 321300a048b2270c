"""SecurityHash: the keyed hash Open Dental keeps on patient and appointment rows.

Open Dental hashes a few columns of each row with a salt only its own program knows and warns
(Database Integrity) when a row's hash does not match, so a program writing the database
directly leaves a stale hash behind. The simulator plays it with an HMAC-SHA256 keyed by a
secret of its own (``SimConfig.security_hash_secret``, random per run when unset) over:

- patient: PatNum, PatStatus, Birthdate;
- appointment: AptNum, AptStatus, Confirmed, AptDateTime (the columns Open Dental documents).

Every legitimate write (the API's, a front-desk user's) recomputes it in the write's own
transaction; a direct database writer cannot. Readers without the secret (the hub) can only
notice that hashed columns changed while the hash did not.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import date, datetime

import aiomysql

from odsim.catalog import table
from odsim.render import format_date, format_datetime

HASHED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "patient": ("PatNum", "PatStatus", "Birthdate"),
    "appointment": ("AptNum", "AptStatus", "Confirmed", "AptDateTime"),
}


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def security_hash(secret: bytes, table_name: str, row: Mapping[str, object]) -> str:
    """The row's SecurityHash: hex HMAC-SHA256 of its hashed columns, "|"-joined."""
    material = "|".join(_text(row[column]) for column in HASHED_COLUMNS[table_name])
    return hmac.new(secret, material.encode("utf-8"), hashlib.sha256).hexdigest()


def is_hashed(table_name: str) -> bool:
    return table_name in HASHED_COLUMNS


async def rehash(cur: aiomysql.Cursor, secret: bytes, table_name: str, key: int) -> None:
    """Recompute the row's SecurityHash from its stored columns (inside the write's transaction,
    after the write)."""
    columns = HASHED_COLUMNS[table_name]
    pk = table(table_name).primary_key
    await cur.execute(
        f"SELECT {', '.join(f'`{c}`' for c in columns)} FROM `{table_name}` WHERE `{pk}` = %s",
        (key,),
    )
    values = await cur.fetchone()
    if values is None:
        return
    row = values if isinstance(values, Mapping) else dict(zip(columns, values, strict=True))
    await cur.execute(
        f"UPDATE `{table_name}` SET SecurityHash = %s WHERE `{pk}` = %s",
        (security_hash(secret, table_name, row), key),
    )
