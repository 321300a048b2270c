"""Custody on MariaDB (ledger migration 7): ``office_holds`` and ``parked_deliveries``.

A parked delivery keeps its message as the broker gave it: the body byte for byte, and the AMQP
properties (headers included, whatever their types) encoded as an AMQP field table, so running it
from here is running the delivery itself. Times are the database's clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pamqp import decode, encode

from hub.custody import Hold, Parked
from hub.ledger import ApiCallRecord
from hub.ledger.mysql_rows import from_db
from hub.ledger.mysql_session import MySqlSession, Record
from hub.ledger.port import QueryObserver
from hub.settings import MySqlSettings
from hub.writer.office_queue import Delivery, KeptProperties

_NOW = "UTC_TIMESTAMP(6)"
_HOLD_COLUMNS = f"""office_id, writer_id, cause, since,
    TIMESTAMPDIFF(MICROSECOND, renewed_at, {_NOW}) AS idle_us"""
# Ours already (a stand-down while draining) or free: the insert is ours; another's stays.
_TAKE_HOLD = f"""
INSERT INTO office_holds (office_id, writer_id, cause, since, renewed_at)
VALUES (%s, %s, %s, {_NOW}, {_NOW})
ON DUPLICATE KEY UPDATE cause = IF(writer_id = VALUES(writer_id), VALUES(cause), cause),
    renewed_at = IF(writer_id = VALUES(writer_id), {_NOW}, renewed_at)
"""
_HOLD = f"SELECT {_HOLD_COLUMNS} FROM office_holds WHERE office_id = %s"
_ADOPT_HOLD = f"""
UPDATE office_holds SET writer_id = %s, renewed_at = {_NOW}
WHERE office_id = %s AND renewed_at <= {_NOW} - INTERVAL %s MICROSECOND
"""
_RELEASE_HOLD = "DELETE FROM office_holds WHERE office_id = %s AND writer_id = %s"
_RELEASE_HOLDS = "DELETE FROM office_holds WHERE writer_id = %s"
_RENEW_HOLDS = f"UPDATE office_holds SET renewed_at = {_NOW} WHERE writer_id = %s"
_PARK = """
INSERT INTO parked_deliveries (office_id, vendor, exchange, cause, held, crashes, properties,
    body, parked_by, parked_at)
VALUES {rows}
"""
# Binary values travel as hex: the MySQL driver here cannot escape a bytes parameter.
_PARK_ROW = f"(%s, %s, %s, %s, %s, %s, UNHEX(%s), UNHEX(%s), %s, {_NOW})"
_PARKED = """
SELECT id, office_id, vendor, exchange, held, crashes, properties, body
FROM parked_deliveries WHERE office_id = %s {skip} ORDER BY id LIMIT %s
"""
_KEEP = "UPDATE parked_deliveries SET held = %s, crashes = %s WHERE id = %s"
_UNPARK = "DELETE FROM parked_deliveries WHERE id = %s"
_COUNTS = "SELECT office_id, COUNT(*) AS parked FROM parked_deliveries GROUP BY office_id"
_HOLDS = f"SELECT {_HOLD_COLUMNS} FROM office_holds"
_PARKED_SUMMARY = """
SELECT office_id, vendor, COUNT(*) AS parked FROM parked_deliveries GROUP BY office_id, vendor
"""


class MySqlCustody:
    """Holds and parked deliveries over a small pool of the hub database."""

    def __init__(self, session: MySqlSession) -> None:
        self._session = session

    @classmethod
    async def open(
        cls, settings: MySqlSettings, *, on_query: QueryObserver, max_connections: int = 2
    ) -> MySqlCustody:
        return cls(
            await MySqlSession.open(settings, on_query=on_query, max_connections=max_connections)
        )

    async def close(self) -> None:
        await self._session.close()

    async def take_hold(self, office: str, writer_id: str, cause: str) -> Hold | None:
        async with self._session.transaction(f"taking office {office}'s hold") as tx:
            await tx.execute("custody.take_hold", _TAKE_HOLD, (office, writer_id, cause))
            record = await tx.fetch_one("custody.hold", _HOLD, (office,))
        hold = None if record is None else _hold(record)
        return None if hold is None or hold.writer_id == writer_id else hold

    async def adopt_hold(self, office: str, writer_id: str, *, stale_after_s: float) -> bool:
        args = (writer_id, office, int(stale_after_s * 1_000_000))
        async with self._session.transaction(f"adopting office {office}'s hold") as tx:
            return await tx.execute("custody.adopt_hold", _ADOPT_HOLD, args) == 1

    async def release_hold(self, office: str, writer_id: str) -> None:
        async with self._session.transaction(f"releasing office {office}'s hold") as tx:
            await tx.execute("custody.release_hold", _RELEASE_HOLD, (office, writer_id))

    async def release_holds(self, writer_id: str) -> int:
        async with self._session.transaction("releasing this writer's holds") as tx:
            return await tx.execute("custody.release_holds", _RELEASE_HOLDS, (writer_id,))

    async def renew_holds(self, writer_id: str) -> int:
        async with self._session.transaction("renewing this writer's holds") as tx:
            return await tx.execute("custody.renew_holds", _RENEW_HOLDS, (writer_id,))

    async def hold(self, office: str) -> Hold | None:
        async with self._session.transaction(f"reading office {office}'s hold") as tx:
            record = await tx.fetch_one("custody.hold", _HOLD, (office,))
        return None if record is None else _hold(record)

    async def park(
        self, office: str, writer_id: str, cause: str, deliveries: Sequence[Delivery]
    ) -> None:
        if not deliveries:
            return
        # One statement a delivery, in one transaction: a statement carries a body twice over
        # (hex), and a document's body is up to 17 MiB, so several in one statement would pass
        # any max_allowed_packet (the server's must take one: docs/operations.md).
        sql = _PARK.format(rows=_PARK_ROW)
        async with self._session.transaction(f"parking office {office}'s deliveries") as tx:
            for delivery in deliveries:
                args = _park_args(office, writer_id, cause, delivery)
                await tx.execute("custody.park", sql, args)

    async def parked(
        self, office: str, *, skip_vendors: frozenset[str], limit: int
    ) -> list[Parked]:
        skipped = sorted(skip_vendors)
        skip = ""
        if skipped:
            marks = ", ".join(["%s"] * len(skipped))
            skip = f"AND (vendor IS NULL OR vendor NOT IN ({marks}))"
        sql = _PARKED.format(skip=skip)
        async with self._session.transaction(f"reading office {office}'s parked deliveries") as tx:
            records = await tx.fetch_all("custody.parked", sql, (office, *skipped, limit))
        return [_parked(record) for record in records]

    async def keep(self, parked: Parked) -> None:
        args = (parked.delivery.held, parked.delivery.crashes, parked.id)
        async with self._session.autocommit("keeping a parked delivery") as tx:
            await tx.execute("custody.keep", _KEEP, args)

    async def unpark(self, parked_id: int) -> None:
        async with self._session.autocommit("unparking a decided delivery") as tx:
            await tx.execute("custody.unpark", _UNPARK, (parked_id,))

    async def holds(self) -> dict[str, Hold]:
        async with self._session.transaction("reading the offices' holds") as tx:
            records = await tx.fetch_all("custody.holds", _HOLDS)
        return {record["office_id"]: _hold(record) for record in records}

    async def parked_summary(self) -> dict[str, dict[str | None, int]]:
        async with self._session.transaction("reading what is parked") as tx:
            records = await tx.fetch_all("custody.parked_summary", _PARKED_SUMMARY)
        summary: dict[str, dict[str | None, int]] = {}
        for record in records:
            summary.setdefault(record["office_id"], {})[record["vendor"]] = int(record["parked"])
        return summary

    async def counts(self) -> dict[str, int]:
        async with self._session.transaction("counting parked deliveries") as tx:
            records = await tx.fetch_all("custody.counts", _COUNTS)
        return {record["office_id"]: int(record["parked"]) for record in records}


def encode_properties(delivery: Delivery) -> bytes:
    """The delivery's AMQP properties and flags as an AMQP field table."""
    kept = delivery.properties
    table: dict[str, Any] = {
        "content_type": kept.content_type,
        "content_encoding": kept.content_encoding,
        "headers": dict(kept.headers),
        "delivery_mode": None if kept.delivery_mode is None else int(kept.delivery_mode),
        "priority": kept.priority,
        "correlation_id": kept.correlation_id,
        "reply_to": kept.reply_to,
        "message_id": kept.message_id,
        "timestamp": kept.timestamp,
        "type": kept.type,
        "app_id": kept.app_id,
        "redelivered": delivery.redelivered,
        "unrecorded": [_call_table(call) for call in delivery.unrecorded],
    }
    return encode.field_table(table)


def decode_properties(data: bytes) -> tuple[KeptProperties, bool, tuple[ApiCallRecord, ...]]:
    """The properties, the redelivered flag and the unrecorded calls ``encode_properties``
    wrote."""
    _, table = decode.field_table(data)
    headers = table.get("headers")
    timestamp = table.get("timestamp")
    kept = KeptProperties(
        content_type=_text(table, "content_type"),
        content_encoding=_text(table, "content_encoding"),
        headers=headers if isinstance(headers, dict) else {},
        delivery_mode=_number(table, "delivery_mode"),
        priority=_number(table, "priority"),
        correlation_id=_text(table, "correlation_id"),
        reply_to=_text(table, "reply_to"),
        message_id=_text(table, "message_id"),
        timestamp=timestamp if isinstance(timestamp, datetime) else None,
        type=_text(table, "type"),
        app_id=_text(table, "app_id"),
    )
    calls = table.get("unrecorded")
    unrecorded = tuple(_call(call) for call in calls if isinstance(call, dict)) if isinstance(
        calls, list) else ()
    return kept, table.get("redelivered") is True, unrecorded


def _call_table(call: ApiCallRecord) -> dict[str, Any]:
    return {
        "attempt": call.attempt, "method": call.method, "path": call.path,
        "status": call.status, "latency_s": call.latency_s,
        "od_primary_key": call.od_primary_key, "message": call.message,
        "started_at": call.started_at.isoformat(),  # an AMQP timestamp keeps whole seconds
    }


def _call(table: Mapping[str, Any]) -> ApiCallRecord:
    return ApiCallRecord(
        attempt=int(table["attempt"]), method=str(table["method"]), path=str(table["path"]),
        status=table["status"], latency_s=float(table["latency_s"]),
        od_primary_key=table["od_primary_key"], message=table["message"],
        started_at=datetime.fromisoformat(str(table["started_at"])),
    )


def _text(table: Mapping[str, object], name: str) -> str | None:
    value = table.get(name)
    return value if isinstance(value, str) else None


def _number(table: Mapping[str, object], name: str) -> int | None:
    value = table.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _park_args(office: str, writer_id: str, cause: str, delivery: Delivery) -> tuple[Any, ...]:
    return (
        office, delivery.user_id, delivery.exchange, cause, delivery.held, delivery.crashes,
        encode_properties(delivery).hex(), delivery.body.hex(), writer_id,
    )


def _hold(record: Record) -> Hold:
    return Hold(
        office=record["office_id"],
        writer_id=record["writer_id"],
        cause=record["cause"],
        since=from_db(record["since"]),
        idle_s=max(0, int(record["idle_us"])) / 1_000_000,
    )


def _parked(record: Record) -> Parked:
    properties, redelivered, unrecorded = decode_properties(bytes(record["properties"]))
    delivery = Delivery(
        office=record["office_id"],
        body=bytes(record["body"]),
        user_id=record["vendor"],
        exchange=record["exchange"],
        redelivered=redelivered,
        properties=properties,
        held=record["held"],
        crashes=record["crashes"],
        unrecorded=unrecorded,
    )
    return Parked(id=record["id"], delivery=delivery)
