"""Open Dental's own audit of one row, read through the office's read-only connection.

Tracing is read-only toward Open Dental (DESIGN.md invariant 5): the securitylog comes from
``securitylog_for_row`` and its local times are turned into UTC by the office database itself
(``UNIX_TIMESTAMP`` applies the server's zone rules, daylight saving included, the same clock
Open Dental stamps its log with), both through ``ReadOnlyDatabase``. A database that cannot be
read is reported in the result, not raised: the ledger's side of a trace stands on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from hub.errors import HubError
from hub.opendental.readonly_sql import QueryObserver, ReadOnlyDatabase
from hub.opendental.reconcile_queries import securitylog_for_row
from hub.registry import Office
from hub.settings import TlsSettings
from hub.trace.models import OdRow, OfficeLog, TimedEntry

UTC_BATCH = 100  # local times converted per query


class OfficeAudit(Protocol):
    """Reads Open Dental's audit of one row of one office."""

    async def read(self, row: OdRow) -> OfficeLog: ...


async def _utc_times(db: ReadOnlyDatabase, moments: Sequence[datetime]) -> dict[datetime, datetime]:
    """Each office-local moment as UTC; a moment the server cannot convert is left out."""
    distinct = sorted(set(moments))
    found: dict[datetime, datetime] = {}
    for start in range(0, len(distinct), UTC_BATCH):
        batch = distinct[start : start + UTC_BATCH]
        columns = ", ".join(f"UNIX_TIMESTAMP(%s) AS T{index}" for index in range(len(batch)))
        (row,) = await db.select("securitylog_utc", f"SELECT {columns}", batch)
        for index, moment in enumerate(batch):
            epoch_s = row[f"T{index}"]
            if isinstance(epoch_s, int | Decimal) and epoch_s > 0:  # NULL or 0: out of range
                found[moment] = datetime.fromtimestamp(int(epoch_s), UTC)
    return found


class SqlOfficeAudit:
    """``OfficeAudit`` over each registry office's read-only SQL connection."""

    def __init__(
        self, offices: Mapping[str, Office], *, timeout_s: float, max_concurrent: int,
        observer: QueryObserver, tls: TlsSettings | None = None,
    ) -> None:
        self._offices = offices
        self._tls = tls or TlsSettings()
        self._timeout_s = timeout_s
        self._max_concurrent = max_concurrent
        self._observer = observer

    async def read(self, row: OdRow) -> OfficeLog:
        office = self._offices.get(row.office_id)
        if office is None:
            return OfficeLog(error=f"office {row.office_id!r} is not in the registry")
        try:
            async with ReadOnlyDatabase.open(
                office.db.connection(self._tls), timeout_s=self._timeout_s,
                max_concurrent=self._max_concurrent, observer=self._observer,
                link=f"office {office.id}'s database",
            ) as db:
                entries = await securitylog_for_row(db, row.table, row.primary_key)
                utc = await _utc_times(db, [entry.log_datetime for entry in entries])
        except HubError as exc:
            return OfficeLog(error=f"office {row.office_id}'s Open Dental database: {exc}")
        return OfficeLog(entries=tuple(
            TimedEntry(entry=entry, logged_at=utc.get(entry.log_datetime)) for entry in entries
        ))
