"""The operations tables of the hub database: ``pauses`` and their log (ledger migration 5),
written by ``hub office|vendor pause|resume`` and polled by every writer; ``lane_status``,
written by every writer and read by ``hub status``; ``writers`` (migration 19), every writer's
heartbeat, from which each writer reads the live writers that share the offices
(hub/control/ownership.py).

Times come from the database's own clock (``UTC_TIMESTAMP``), so writers on several machines
compare without trusting each other's clocks.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.control.model import (
    LaneReport,
    LaneRow,
    Pause,
    PauseAction,
    PauseKind,
    Pauses,
    WriterRow,
)
from hub.ledger.mysql_rows import cut, from_db, from_db_or_none, to_db
from hub.ledger.mysql_session import MySqlSession, Record, Statements
from hub.ledger.port import QueryObserver
from hub.settings import MySqlSettings

MAX_OPERATOR_CHARS = 128
MAX_REASON_CHARS = 500
MAX_LAST_ERROR_CHARS = 200

_PAUSE = """
INSERT INTO pauses (kind, name, paused_by, reason, paused_at)
VALUES (%s, %s, %s, %s, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE paused_by = VALUES(paused_by), reason = VALUES(reason)
"""
_RESUME = "DELETE FROM pauses WHERE kind = %s AND name = %s"
_LOG = """
INSERT INTO pause_log (kind, name, action, operator, reason, at)
VALUES (%s, %s, %s, %s, %s, UTC_TIMESTAMP(6))
"""
_PAUSES = "SELECT kind, name, paused_by, reason, paused_at FROM pauses ORDER BY kind, name"
_REPORT = """
INSERT INTO lane_status
    (office_id, writer_id, state, in_flight, serving, last_error, last_error_at, updated_at)
VALUES {rows}
ON DUPLICATE KEY UPDATE state = VALUES(state), in_flight = VALUES(in_flight),
    serving = VALUES(serving),
    last_error = VALUES(last_error), last_error_at = VALUES(last_error_at),
    updated_at = VALUES(updated_at)
"""
_REPORT_ROW = "(%s, %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6))"
_FORGET_WRITER = "DELETE FROM lane_status WHERE writer_id = %s"
_FORGET_OLD = (
    "DELETE FROM lane_status WHERE updated_at < UTC_TIMESTAMP(6) - INTERVAL %s SECOND"
)
_BEAT = """
INSERT INTO writers (writer_id, started_at, beat_at)
VALUES (%s, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE beat_at = VALUES(beat_at)
"""
_FORGET_BEAT = "DELETE FROM writers WHERE writer_id = %s"
_FORGET_OLD_BEATS = (
    "DELETE FROM writers WHERE beat_at < UTC_TIMESTAMP(6) - INTERVAL %s SECOND"
)
_LIVE_WRITERS = """
SELECT writer_id FROM writers WHERE beat_at >= UTC_TIMESTAMP(6) - INTERVAL %s MICROSECOND
"""
_WRITERS = """
SELECT writer_id, started_at, TIMESTAMPDIFF(MICROSECOND, beat_at, UTC_TIMESTAMP(6)) AS age_us
FROM writers ORDER BY writer_id
"""
_LANES = """
SELECT office_id, writer_id, state, in_flight, serving, last_error, last_error_at, updated_at,
    TIMESTAMPDIFF(MICROSECOND, updated_at, UTC_TIMESTAMP(6)) AS age_us
FROM lane_status ORDER BY office_id, writer_id
"""


class ControlStore:
    """Pauses and lane status over one small pool of the hub database."""

    def __init__(self, session: MySqlSession) -> None:
        self._session = session

    @classmethod
    async def open(
        cls, settings: MySqlSettings, *, on_query: QueryObserver, max_connections: int = 2
    ) -> ControlStore:
        return cls(
            await MySqlSession.open(settings, on_query=on_query, max_connections=max_connections)
        )

    async def close(self) -> None:
        await self._session.close()

    async def ping(self) -> None:
        """Raises unless the hub database answers a query."""
        async with self._session.transaction("checking the hub database") as tx:
            await tx.fetch_one("control.ping", "SELECT 1")

    async def pause(self, kind: PauseKind, name: str, operator: str, reason: str | None) -> bool:
        """Record the pause (who and why are updated if it was in force); False if it was."""
        args = (kind.value, name, *_who_why(operator, reason))
        async with self._session.transaction(f"pausing {kind.value} {name}") as tx:
            affected = await tx.execute("control.pause", _PAUSE, args)
            await _log(tx, kind, name, PauseAction.PAUSE, operator, reason)
        return affected == 1  # 1: inserted; 2 or 0: it was paused already

    async def resume(self, kind: PauseKind, name: str, operator: str, reason: str | None) -> bool:
        """Lift the pause; False if there was none."""
        async with self._session.transaction(f"resuming {kind.value} {name}") as tx:
            affected = await tx.execute("control.resume", _RESUME, (kind.value, name))
            if affected:
                await _log(tx, kind, name, PauseAction.RESUME, operator, reason)
        return affected > 0

    async def pauses(self) -> Pauses:
        async with self._session.transaction("reading pauses") as tx:
            records = await tx.fetch_all("control.pauses", _PAUSES)
        return Pauses.of(_pause(record) for record in records)

    async def report(self, writer_id: str, reports: Sequence[LaneReport]) -> None:
        """Upsert one row per lane of this writer, stamped now."""
        if not reports:
            return
        sql = _REPORT.format(rows=", ".join([_REPORT_ROW] * len(reports)))
        args = [value for report in reports for value in _report_args(writer_id, report)]
        async with self._session.transaction("reporting lane status") as tx:
            await tx.execute("control.report", sql, args)

    async def forget_writer(self, writer_id: str) -> None:
        """A writer stopping cleanly: its lanes' rows and its heartbeat go, so the others take
        its offices within a poll."""
        async with self._session.transaction("forgetting a writer") as tx:
            await tx.execute("control.forget_writer", _FORGET_WRITER, (writer_id,))
            await tx.execute("control.forget_beat", _FORGET_BEAT, (writer_id,))

    async def forget_older_than(self, seconds: float) -> int:
        """Delete rows no writer has refreshed for ``seconds`` (writers long gone)."""
        async with self._session.transaction("forgetting old lane status") as tx:
            await tx.execute("control.forget_old_beats", _FORGET_OLD_BEATS, (int(seconds),))
            return await tx.execute("control.forget_old", _FORGET_OLD, (int(seconds),))

    async def beat(self, writer_id: str) -> None:
        """This writer is alive, by the database's clock."""
        async with self._session.transaction("beating") as tx:
            await tx.execute("control.beat", _BEAT, (writer_id,))

    async def writers(self) -> list[WriterRow]:
        """Every writer's heartbeat row, live or not (``hub status``)."""
        async with self._session.transaction("reading the writers") as tx:
            records = await tx.fetch_all("control.writers", _WRITERS)
        return [_writer_row(record) for record in records]

    async def live_writers(self, stale_after_s: float) -> frozenset[str]:
        """Writers whose heartbeat is fresher than ``stale_after_s``."""
        args = (int(stale_after_s * 1_000_000),)
        async with self._session.transaction("reading the live writers") as tx:
            records = await tx.fetch_all("control.live_writers", _LIVE_WRITERS, args)
        return frozenset(record["writer_id"] for record in records)

    async def lanes(self) -> list[LaneRow]:
        async with self._session.transaction("reading lane status") as tx:
            records = await tx.fetch_all("control.lanes", _LANES)
        return [_lane_row(record) for record in records]


async def _log(
    tx: Statements,
    kind: PauseKind,
    name: str,
    action: PauseAction,
    operator: str,
    reason: str | None,
) -> None:
    args = (kind.value, name, action.value, *_who_why(operator, reason))
    await tx.execute("control.pause_log", _LOG, args)


def _who_why(operator: str, reason: str | None) -> tuple[str | None, str | None]:
    return cut(operator, MAX_OPERATOR_CHARS), cut(reason, MAX_REASON_CHARS)


def _report_args(writer_id: str, report: LaneReport) -> tuple[object, ...]:
    at = None if report.last_error_at is None else to_db(report.last_error_at)
    return (
        report.office,
        writer_id,
        report.state.value,
        max(report.in_flight, 0),
        report.serving,
        cut(report.last_error, MAX_LAST_ERROR_CHARS),
        at,
    )


def _pause(record: Record) -> Pause:
    return Pause(
        kind=PauseKind(record["kind"]),
        name=record["name"],
        paused_by=record["paused_by"],
        reason=record["reason"],
        paused_at=from_db(record["paused_at"]),
    )


def _lane_row(record: Record) -> LaneRow:
    return LaneRow(
        office=record["office_id"],
        writer_id=record["writer_id"],
        state=record["state"],
        in_flight=record["in_flight"],
        serving=bool(record["serving"]),
        last_error=record["last_error"],
        last_error_at=from_db_or_none(record["last_error_at"]),
        updated_at=from_db(record["updated_at"]),
        age_s=max(0, int(record["age_us"])) / 1_000_000,
    )


def _writer_row(record: Record) -> WriterRow:
    return WriterRow(
        writer_id=record["writer_id"],
        started_at=from_db(record["started_at"]),
        beat_s_ago=max(0, int(record["age_us"])) / 1_000_000,
    )
