"""The record of dead letters that outlived ``hub.dead``'s retention: one row per expiry in the
hub database (``dead_letter_expiries``, ledger migration 11), naming the intent, never its body.

An expired message reaches ``hub.dead.expired`` as it was in ``hub.dead`` plus the broker's
``x-death`` entry of the expiry (reason ``expired``, its time). ``expiry_of`` reads it into an
``Expiry``: the dead letter's fields as ``hub dlq`` reads them (``letters.expired_letter``),
the intent's ledger id where the writer's trusted headers name it, and when it expired.

What identifies one expiry (``Expiry.key``) is everything the record says but the time it was
recorded: a redelivered expiry, or two writers reading one, make one row (``INSERT IGNORE`` on the
unique key), while the same intent dead-lettered again later and expiring again makes another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import datetime

from aio_pika.abc import AbstractIncomingMessage

import hub.ledger.constants as lc
from hub import names
from hub.dlq.constants import DEFAULT_LIMIT, MAX_QUEUE_CHARS
from hub.dlq.letters import expired_letter, header_count, header_moment
from hub.dlq.model import Source
from hub.errors import HubError
from hub.ledger.mysql_rows import cut, from_db, from_db_or_none, to_db
from hub.ledger.mysql_session import MySqlSession, Record, ignore_query
from hub.ledger.port import QueryObserver
from hub.settings import MySqlSettings

_COLUMNS = (
    "queue, source, intent_id, vendor, idempotency_key, message_id, office_id, contract, reason,"
    " dead_lettered_at, expired_at"
)
_RECORD = f"""
INSERT IGNORE INTO dead_letter_expiries (expiry_key, {_COLUMNS}, recorded_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6))
"""
_LIST = f"""
SELECT id, {_COLUMNS}, recorded_at FROM dead_letter_expiries {{where}} ORDER BY id DESC LIMIT %s
"""


class ExpiryError(HubError):
    """The record of expired dead letters could not be written or read."""


@dataclass(frozen=True, kw_only=True)
class Expiry:
    """One dead letter that expired from ``queue``: who and what it was, never its body."""

    queue: str  # the dead-letter queue it expired from
    source: Source  # who dead-lettered it: the writer, or the broker (a poison message)
    intent_id: int | None  # the ledger's intents.id, from the writer's x-hub-intent-id
    vendor: str | None
    idempotency_key: str | None
    message_id: str | None
    office: str | None
    contract: str | None
    reason: str | None  # why it was dead-lettered (invalid, retries_exhausted, delivery_limit …)
    dead_lettered_at: datetime | None
    expired_at: datetime | None  # the broker's x-death time of the expiry (whole seconds)

    def key(self) -> str:
        """SHA-256 (hex) of every field: the same expiry read twice has the same key."""
        fields = {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in asdict(self).items()
        }
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class ExpiryRow:
    id: int  # the order they were recorded in
    expiry: Expiry
    recorded_at: datetime


@dataclass(frozen=True, kw_only=True)
class ExpiryFilter:
    """Exact matches; ``since`` (inclusive) and ``until`` (exclusive) on the expiry's time."""

    vendor: str | None = None
    office: str | None = None
    message_id: str | None = None  # the message id or the idempotency key
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("the limit must be at least 1")


def expiry_of(message: AbstractIncomingMessage, dead_queue: str) -> Expiry:
    """The expiry an expired message stands for. One that carries no expiry from
    ``dead_queue`` (it came some other way) is recorded all the same, its time unknown."""
    letter, death = expired_letter(message, dead_queue)
    trusted = letter.source is Source.WRITER
    return Expiry(
        queue=dead_queue,
        source=letter.source,
        intent_id=header_count(letter.headers.get(names.HEADER_INTENT_ID)) if trusted else None,
        vendor=letter.vendor,
        idempotency_key=letter.idempotency_key,
        message_id=letter.message_id,
        office=letter.office,
        contract=letter.contract,
        reason=letter.reason,
        dead_lettered_at=letter.dead_lettered_at,
        expired_at=header_moment(death.get("time")),
    )


class MySqlExpiries:
    """``dead_letter_expiries`` over a small pool of the hub database."""

    def __init__(self, session: MySqlSession) -> None:
        self._session = session

    @classmethod
    async def open(
        cls, settings: MySqlSettings, *, on_query: QueryObserver = ignore_query
    ) -> MySqlExpiries:
        try:
            session = await MySqlSession.open(settings, on_query=on_query, max_connections=2)
        except HubError as exc:
            raise ExpiryError(f"the hub database cannot be reached ({exc})") from exc
        return cls(session)

    async def close(self) -> None:
        await self._session.close()

    async def record(self, expiry: Expiry) -> bool:
        """Write and commit one expiry; False if it was recorded before (the same key)."""
        async with self._session.autocommit("recording an expired dead letter") as statements:
            return await statements.execute("expiries.record", _RECORD, _args(expiry)) == 1

    async def rows(self, wanted: ExpiryFilter) -> list[ExpiryRow]:
        """The newest ``wanted.limit`` matches, oldest first."""
        where, args = _where(wanted)
        try:
            async with self._session.autocommit("reading expired dead letters") as statements:
                records = await statements.fetch_all(
                    "expiries.list", _LIST.format(where=where), (*args, wanted.limit)
                )
        except HubError as exc:
            raise ExpiryError(f"the record of expired dead letters could not be read ({exc}); "
                              "is the hub database up and migrated (hub migrate)?") from exc
        return [_row(record) for record in reversed(records)]


@asynccontextmanager
async def mysql_expiries(settings: MySqlSettings) -> AsyncIterator[MySqlExpiries]:
    store = await MySqlExpiries.open(settings)
    try:
        yield store
    finally:
        await store.close()


def _args(expiry: Expiry) -> tuple[object, ...]:
    return (
        expiry.key(),
        cut(expiry.queue, MAX_QUEUE_CHARS),
        expiry.source.value,
        expiry.intent_id,
        cut(expiry.vendor, lc.MAX_VENDOR_CHARS),
        cut(expiry.idempotency_key, lc.MAX_IDEMPOTENCY_KEY_CHARS),
        cut(expiry.message_id, lc.MAX_MESSAGE_ID_CHARS),
        cut(expiry.office, lc.MAX_OFFICE_ID_CHARS),
        cut(_ascii(expiry.contract), lc.MAX_CONTRACT_CHARS),
        cut(_ascii(expiry.reason), lc.MAX_REASON_CHARS),
        None if expiry.dead_lettered_at is None else to_db(expiry.dead_lettered_at),
        None if expiry.expired_at is None else to_db(expiry.expired_at),
    )


def _where(wanted: ExpiryFilter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    for column, value in (("vendor", wanted.vendor), ("office_id", wanted.office)):
        if value is not None:
            clauses.append(f"{column} = %s")
            args.append(value)
    if wanted.message_id is not None:
        clauses.append("(message_id = %s OR idempotency_key = %s)")
        args += [wanted.message_id, wanted.message_id]
    # An expiry of unknown time (none came that way so far) is placed at its recording.
    moment = "COALESCE(expired_at, recorded_at)"
    if wanted.since is not None:
        clauses.append(f"{moment} >= %s")
        args.append(to_db(wanted.since))
    if wanted.until is not None:
        clauses.append(f"{moment} < %s")
        args.append(to_db(wanted.until))
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), args


def _row(record: Record) -> ExpiryRow:
    return ExpiryRow(
        id=record["id"],
        recorded_at=from_db(record["recorded_at"]),
        expiry=Expiry(
            queue=record["queue"],
            source=Source(record["source"]),
            intent_id=record["intent_id"],
            vendor=record["vendor"],
            idempotency_key=record["idempotency_key"],
            message_id=record["message_id"],
            office=record["office_id"],
            contract=record["contract"],
            reason=record["reason"],
            dead_lettered_at=from_db_or_none(record["dead_lettered_at"]),
            expired_at=from_db_or_none(record["expired_at"]),
        ),
    )


def _ascii(text: str | None) -> str | None:
    # These columns are ASCII (contract and reason codes); a stray character becomes "?".
    return None if text is None else text.encode("ascii", "replace").decode("ascii")
