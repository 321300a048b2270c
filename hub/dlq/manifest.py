"""A purge's manifest in the hub database (migration 4): one ``dlq_purges`` row per purge,
pointing at its ``operator_audit`` entry (migration 10), and one ``dlq_purged_messages`` row per
message, naming the intent (never its body), written in one transaction before any message
leaves the queue.

Values too long for their column are cut, never refused: an odd header must not stop the purge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import hub.ledger.constants as lc
from hub.audit import Operator
from hub.dlq import constants as c
from hub.dlq.model import DeadLetter
from hub.ledger.mysql_session import MySqlSession, ignore_query
from hub.settings import MySqlSettings

_INSERT_PURGE = """
INSERT INTO dlq_purges
    (audit_id, purged_at, os_user, operator, queue, filter_json, message_count)
VALUES (%s, UTC_TIMESTAMP(6), %s, %s, %s, %s, %s)
"""
_INSERT_MESSAGE = """
INSERT INTO dlq_purged_messages (purge_id, position, message_id, vendor, idempotency_key,
    office_id, contract, reason, dead_lettered_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


@dataclass(frozen=True, kw_only=True)
class PurgeRecord:
    audit_id: int  # the purge's operator_audit entry
    operator: Operator
    queue: str
    filter: dict[str, str | int]
    letters: Sequence[DeadLetter]


async def record_purge(settings: MySqlSettings, record: PurgeRecord) -> int:
    """Write the manifest of one purge and commit it; the new ``dlq_purges.id``."""
    session = await MySqlSession.open(settings, on_query=ignore_query, max_connections=1)
    try:
        async with session.transaction("recording a dead-letter purge") as statements:
            await statements.execute("dlq purge", _INSERT_PURGE, _purge_args(record))
            purge_id = statements.last_insert_id
            for order, letter in enumerate(record.letters):
                await statements.execute(
                    "dlq purged message", _INSERT_MESSAGE, (purge_id, order, *_message_args(letter))
                )
    finally:
        await session.close()
    return purge_id


def _purge_args(record: PurgeRecord) -> tuple[object, ...]:
    return (
        record.audit_id,
        _cut(record.operator.os_user, c.MAX_OS_USER_CHARS),
        _cut(record.operator.name, c.MAX_OPERATOR_CHARS),
        _cut(record.queue, c.MAX_QUEUE_CHARS),
        json.dumps(record.filter, sort_keys=True),
        len(record.letters),
    )


def _message_args(letter: DeadLetter) -> tuple[object, ...]:
    moment = letter.dead_lettered_at
    return (
        _cut(letter.message_id, lc.MAX_MESSAGE_ID_CHARS),
        _cut(letter.vendor, lc.MAX_VENDOR_CHARS),
        _cut(letter.idempotency_key, lc.MAX_IDEMPOTENCY_KEY_CHARS),
        _cut(letter.office, lc.MAX_OFFICE_ID_CHARS),
        _cut(_ascii(letter.contract), lc.MAX_CONTRACT_CHARS),
        _cut(_ascii(letter.reason), lc.MAX_REASON_CHARS),
        None if moment is None else moment.replace(tzinfo=None),
    )


def _cut(text: str | None, max_chars: int) -> str | None:
    return None if text is None else text[:max_chars]


def _ascii(text: str | None) -> str | None:
    # These columns are ASCII (contract and reason codes); a stray character becomes "?".
    return None if text is None else text.encode("ascii", "replace").decode("ascii")
