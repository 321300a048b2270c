"""What the ledger says about the run's intents, read with plain SELECTs on the run's own ledger
database: each intent's status and reason, when and in which order each was finished, and how
many intents stand in each status, over which moments each sheet.fill made its calls, the write
calls of applied intents, and the changes the watch attributed (the watch's tables live in the
same hub database)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiomysql

from hub.settings import MySqlSettings
from hub.watch.model import Door
from lab.chaos.config import ChaosError
from lab.chaos.door_accounting import LostAttempt, Seen, WriteCall

VendorKey = tuple[str, str]  # (vendor, idempotency key)
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True, kw_only=True)
class LedgerEntry:
    status: str  # received, attempting, applied, rejected, dead
    reason: str | None
    attempts: int
    deliveries: int
    od_table: str | None
    od_primary_key: int | None


async def _select(db: MySqlSettings, sql: str) -> list[dict[str, object]]:
    try:
        conn = await aiomysql.connect(
            host=db.host, port=db.port, user=db.user, password=db.password.get_secret_value(),
            db=db.database, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
        )
    except aiomysql.MySQLError as exc:
        raise ChaosError(f"cannot read the ledger database {db.database} ({exc})") from exc
    try:
        async with conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(sql)
            return list(await cur.fetchall())
    finally:
        conn.close()


async def ledger_entries(db: MySqlSettings) -> dict[VendorKey, LedgerEntry]:
    rows = await _select(
        db,
        "SELECT vendor, idempotency_key, status, reason, attempts, deliveries, od_table,"
        " od_primary_key FROM intents",
    )
    return {
        (str(row["vendor"]), str(row["idempotency_key"])): LedgerEntry(
            status=str(row["status"]),
            reason=None if row["reason"] is None else str(row["reason"]),
            attempts=int(str(row["attempts"])),
            deliveries=int(str(row["deliveries"])),
            od_table=None if row["od_table"] is None else str(row["od_table"]),
            od_primary_key=_int_or_none(row["od_primary_key"]),
        )
        for row in rows
    }


@dataclass(frozen=True, kw_only=True)
class Finish:
    office: str
    status: str
    finished_at: datetime | None  # UTC, the database's clock; None while in flight
    row_id: int  # the ledger's id: the order of first claims


async def finishes(db: MySqlSettings) -> dict[VendorKey, Finish]:
    rows = await _select(
        db, "SELECT id, vendor, idempotency_key, office_id, status, finished_at FROM intents"
    )
    return {
        (str(row["vendor"]), str(row["idempotency_key"])): Finish(
            office=str(row["office_id"]), status=str(row["status"]),
            finished_at=_utc_or_none(row["finished_at"]), row_id=int(str(row["id"])),
        )
        for row in rows
    }


async def sheet_fill_spans(db: MySqlSettings) -> list[tuple[datetime, datetime]]:
    """Each sheet.fill's first and last recovery point (sheet_fill_steps, recorded by the
    database's UTC clock): a kill between the two landed inside that fill, between its calls."""
    rows = await _select(
        db, "SELECT MIN(recorded_at) AS first_at, MAX(recorded_at) AS last_at"
        " FROM sheet_fill_steps GROUP BY intent_id",
    )
    return [
        (first, last) for row in rows
        if (first := _utc_or_none(row["first_at"])) and (last := _utc_or_none(row["last_at"]))
    ]


def kills_inside(kills: Sequence[datetime], spans: Sequence[tuple[datetime, datetime]]) -> int:
    """Kills that fell strictly between a fill's first and last recovery point."""
    return sum(1 for kill in kills if any(first < kill < last for first, last in spans))


def _utc_or_none(value: object) -> datetime | None:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else None


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


async def status_counts(db: MySqlSettings) -> Counter[str]:
    """Intents per status; an empty count before the writer has made its tables."""
    try:
        rows = await _select(db, "SELECT status, COUNT(*) AS n FROM intents GROUP BY status")
    except (ChaosError, aiomysql.MySQLError):
        return Counter()
    return Counter({str(row["status"]): int(str(row["n"])) for row in rows})


async def write_calls(db: MySqlSettings) -> list[WriteCall]:
    """Every POST and PUT of the applied intents."""
    rows = await _select(
        db,
        "SELECT i.id, i.vendor, i.idempotency_key, i.office_id, i.od_table,"
        " i.od_primary_key AS intent_key, c.method, c.path, c.status, c.od_primary_key AS call_key,"
        " c.started_at FROM intents i JOIN api_calls c ON c.intent_id = i.id"
        " WHERE i.status = 'applied' AND c.method IN ('POST', 'PUT')",
    )
    return [
        WriteCall(
            intent_id=int(str(row["id"])), vendor=str(row["vendor"]),
            idempotency_key=str(row["idempotency_key"]), office_id=str(row["office_id"]),
            intent_table=None if row["od_table"] is None else str(row["od_table"]),
            intent_key=_int_or_none(row["intent_key"]), method=str(row["method"]),
            path=str(row["path"]), status=_int_or_none(row["status"]),
            key=_int_or_none(row["call_key"]), started_at=_utc(row["started_at"]),
        )
        for row in rows
    ]


async def lost_attempts(db: MySqlSettings) -> list[LostAttempt]:
    """The applied intents with a row and an attempt the ledger holds no call of."""
    rows = await _select(
        db,
        "SELECT i.id, i.vendor, i.idempotency_key, i.office_id, i.od_table, i.od_primary_key,"
        " i.received_at FROM intents i WHERE i.status = 'applied' AND i.od_table IS NOT NULL"
        " AND i.od_primary_key IS NOT NULL AND i.attempts >"
        " (SELECT COUNT(DISTINCT c.attempt) FROM api_calls c WHERE c.intent_id = i.id)",
    )
    return [
        LostAttempt(
            intent_id=int(str(row["id"])), vendor=str(row["vendor"]),
            idempotency_key=str(row["idempotency_key"]), office_id=str(row["office_id"]),
            table=str(row["od_table"]), key=int(str(row["od_primary_key"])),
            received_at=_utc(row["received_at"]),
        )
        for row in rows
    ]


async def watch_changes(db: MySqlSettings) -> list[Seen]:
    """Every change the watch recorded (ids and doors only)."""
    rows = await _select(
        db, "SELECT office_id, od_table, od_key, door, intent_id, stamp, changed_at"
        " FROM watch_changes",
    )
    return [
        Seen(office_id=str(row["office_id"]), table=str(row["od_table"]),
             key=int(str(row["od_key"])), door=Door(str(row["door"])),
             intent_id=_int_or_none(row["intent_id"]), stamp=_naive(row["stamp"]),
             changed_at=_utc(row["changed_at"]))
        for row in rows
    ]


def _utc(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC)


def _naive(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value
