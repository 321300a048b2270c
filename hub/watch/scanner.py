"""The watch of one office: bounded scans of its tables, rows named by events, and attribution.

``OfficeWatcher.scan_once`` reads each table the office's database indexes by change stamp, in
pages of ``batch`` rows after a cursor kept in the hub database, for at most ``max_pages``
pages; each row whose stamp is new to the watch becomes one attributed change
(hub/watch/attribute.py) recorded with the row's new digests. ``changed_row`` does the same for
one row an Open Dental event named. ``run`` repeats scans at the office's interval, which
doubles while its database is slow (a query over ``slow_query_s``) up to ``max_interval_s`` and
comes back after a quick scan.

Cursors: a scan that caught up saves (last stamp less ``commit_lag_s``, key 0), never before the
cursor it started from, so that the next one reads that span again and finds rows stamped in it
that were not yet committed when it read them (a row is stamped when its UPDATE runs, and
DateTStamp keeps whole seconds); rows it has already seen unchanged are skipped. A scan that
stopped on a full page saves (stamp, key) to go on exactly where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from hub.errors import HubError
from hub.ledger import IntentStory, LedgerTrace
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import OdTable
from hub.settings import WatchSettings
from hub.trace.models import OdRow
from hub.trace.queries import stories_of
from hub.watch.attribute import attribute_change, hub_intent
from hub.watch.digests import Digester, changed_columns
from hub.watch.model import Attribution, SeenRow, Source
from hub.watch.store import Cursor, PendingChange, RowState, WatchStore
from hub.watch.tables import (
    EPOCH_COLUMN,
    WATCHED,
    LogRow,
    WatchedTable,
    office_now,
    office_tables,
    own_dev_name,
    read_row,
    read_rows,
    scan,
    securitylogs_of,
    side_effect_only,
)

log = logging.getLogger("hub.watch")

PENDING_BATCH = 100  # changes waiting for their intent asked about per pass at most


class WatchObserver(Protocol):
    """What the watch reports to metrics (``HubMetrics`` has these methods)."""

    def watch_scan(self, office: str, table: str, duration_s: float, rows: int) -> None: ...

    def watch_change(self, office: str, door: str) -> None: ...

    def watch_interval(self, office: str, interval_s: float) -> None: ...


# Told of every pass's changes, even none (hub/change_events' notifier delivers what an earlier
# pass could not): (office, the office's read-only database, the changes).
Tell = Callable[[str, ReadOnlyDatabase, Sequence[Attribution]], Awaitable[object]]


@dataclass(frozen=True, kw_only=True)
class ScanResult:
    changes: tuple[Attribution, ...]
    slowest_s: float  # the slowest scan query of the round
    # Changes of earlier passes whose intent was pending, now known (or no longer waited for)
    settled: tuple[Attribution, ...] = ()

    @property
    def to_tell(self) -> list[Attribution]:
        return [*self.changes, *self.settled]


def next_interval(current_s: float, slowest_s: float, settings: WatchSettings) -> float:
    """Double while the office's database is slow, back to the base once it is quick."""
    if slowest_s > settings.slow_query_s:
        return min(current_s * 2, settings.max_interval_s)
    return settings.interval_s


@dataclass(kw_only=True)
class OfficeWatcher:
    """Everything the watch needs for one office; ``db`` caps its concurrent queries."""

    office_id: str
    db: ReadOnlyDatabase
    customer_key: str  # to find the hub's own DevName in the office's apikey table
    store: WatchStore
    ledger: LedgerTrace
    digester: Digester
    settings: WatchSettings
    observer: WatchObserver
    tell: Tell | None = None
    _slowest_s: float = field(default=0.0, init=False)
    # Learned from the office's database on the first scan (it may be down when the watch starts).
    tables: Sequence[WatchedTable] | None = field(default=None, init=False)
    own_dev_name: str | None = field(default=None, init=False)
    # Scans of several tables and events run side by side; a row's state is read, compared and
    # written under this lock, so a scan and an event never both record one change.
    _recording: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def scan_once(self) -> ScanResult:
        """One scan of every table; the changes found, in the order recorded."""
        self._slowest_s = 0.0
        tables = [table for table in await self._tables() if table.scanned]
        found = await asyncio.gather(*(self._scan_table(table) for table in tables))
        changes = tuple(change for each in found for change in each)
        settled = await self._settle_pending()
        return ScanResult(changes=changes, slowest_s=self._slowest_s, settled=settled)

    async def _settle_pending(self) -> tuple[Attribution, ...]:
        """Ask the ledger again for the intent behind each change given to the hub's key before
        the ledger knew it (a create whose reply was lost is tied to its row once reconciled; an
        update only once its intent is finished); each found, or waited for longer than
        ``intent_wait_s``, is settled and returned, to be told."""
        pending = await self.store.pending(self.office_id, PENDING_BATCH)
        by_table: dict[OdTable, list[PendingChange]] = {}
        for one in pending:
            by_table.setdefault(one.change.table, []).append(one)
        settled: list[Attribution] = []
        asked: list[PendingChange] = []
        oldest = datetime.now(UTC) - timedelta(seconds=self.settings.intent_wait_s)
        for table, ones in by_table.items():
            keys = sorted({one.change.key for one in ones})
            logs = await securitylogs_of(self.db, table, keys, side_keys=keys)
            for one in ones:
                intent = await self._intent_of(one.change, logs.get(one.change.key, []))
                if intent is not None or one.recorded_at < oldest:
                    settled.append(await self.store.settle(one, intent))
                else:
                    asked.append(one)
        await self.store.asked(asked)
        return tuple(settled)

    async def _intent_of(
        self, change: Attribution, logs: Sequence[LogRow]
    ) -> tuple[str, int] | None:
        log = next((one for one in logs if one.securitylog_num == change.securitylog_num), None)
        if log is None:  # gone from Open Dental's log: nothing to pair any more
            return None
        row = OdRow(office_id=self.office_id, table=change.table, primary_key=change.key)
        stories = await (
            stories_of(self.ledger, row) if log.about is None else self._stories_about(log)
        )
        return hub_intent(row, log, [one for one in logs if one.about is None], stories)

    async def _tables(self) -> Sequence[WatchedTable]:
        if self.tables is None:
            tables = await office_tables(self.db)
            self.own_dev_name = await own_dev_name(self.db, self.customer_key)
            scanned = sorted(table.table.value for table in tables if table.scanned)
            log.info("office %s: scanning %s", self.office_id, ", ".join(scanned) or "nothing")
            left_out = sorted(set(WATCHED) - {table.table for table in tables if table.scanned})
            if left_out:
                log.warning(
                    "office %s: not scanning %s: no index on their change stamp",
                    self.office_id, ", ".join(left_out),
                )
            self.tables = tables
        return self.tables

    async def changed_row(self, table: OdTable, key: int) -> Attribution | None:
        """The row an event named, read now and attributed like a scanned one; None if it is
        gone or its stamp was seen already."""
        watched = next((t for t in await self._tables() if t.table is table), None)
        if watched is None:
            return None  # the office's database has no such table
        row = await read_row(self.db, watched, key)
        if row is None:
            return None
        recorded = await self._record(watched, [row], Source.EVENT)
        return recorded[0] if recorded else None

    async def run(self, stop: asyncio.Event) -> None:
        """Scan at the office's interval until ``stop`` is set."""
        interval_s = self.settings.interval_s
        while not stop.is_set():
            try:
                result = await self.scan_once()
                slowest_s = result.slowest_s
                if result.changes:
                    log.info("office %s: %d changes attributed", self.office_id,
                             len(result.changes))
            except HubError as exc:
                log.warning("office %s: scan failed: %s", self.office_id, exc)
                slowest_s = self.settings.slow_query_s * 2  # a failing database is a slow one
                result = ScanResult(changes=(), slowest_s=slowest_s)
            await self.tell_changes(result.to_tell)
            interval_s = next_interval(interval_s, slowest_s, self.settings)
            self.observer.watch_interval(self.office_id, interval_s)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    async def tell_changes(self, changes: Sequence[Attribution]) -> None:
        """Hand the changes to ``tell``, but those whose intent is pending (told once it is
        known); a failure there is logged, and what it did not settle it settles on a later
        pass."""
        if self.tell is None:
            return
        settled = [change for change in changes if not change.intent_pending]
        try:
            await self.tell(self.office_id, self.db, settled)
        except HubError as exc:
            log.warning("office %s: telling %d changes failed: %s", self.office_id,
                        len(changes), exc)

    async def _scan_table(self, table: WatchedTable) -> list[Attribution]:
        cursor = await self.store.cursor(self.office_id, table.table)
        if cursor is None:  # the first scan starts now: rows changed before are not its news
            cursor = Cursor(stamp=await office_now(self.db), last_key=0)
            await self.store.save_cursor(self.office_id, table.table, cursor)
        start = cursor.stamp  # no rewind goes before it: what came before is not news
        changes: list[Attribution] = []
        for _ in range(self.settings.max_pages):
            rows = await self._page(table, cursor)
            if not rows:
                break
            changes += await self._record(table, rows, Source.SCAN)
            last = rows[-1]
            full = len(rows) == self.settings.batch
            if full:  # go on exactly where this page stopped
                cursor = Cursor(stamp=_stamp(last, table), last_key=_key(last, table))
            else:  # caught up: the next scan reads the commit lag again (settings.commit_lag_s)
                lag = timedelta(seconds=self.settings.commit_lag_s)
                cursor = Cursor(stamp=max(_stamp(last, table) - lag, start), last_key=0)
            await self.store.save_cursor(self.office_id, table.table, cursor)
            if not full:
                break
        return changes

    async def _page(self, table: WatchedTable, cursor: Cursor) -> list[dict[str, object]]:
        started = time.perf_counter()
        rows = await scan(self.db, table, cursor.stamp, cursor.last_key, self.settings.batch)
        duration_s = time.perf_counter() - started
        self._slowest_s = max(self._slowest_s, duration_s)
        self.observer.watch_scan(self.office_id, table.table.value, duration_s, len(rows))
        return rows

    async def _record(
        self, table: WatchedTable, rows: Sequence[dict[str, object]], source: Source
    ) -> list[Attribution]:
        async with self._recording:
            return await self._record_locked(table, rows, source)

    async def _record_locked(
        self, table: WatchedTable, rows: Sequence[dict[str, object]], source: Source
    ) -> list[Attribution]:
        keys = [_key(row, table) for row in rows]
        states = await self.store.states(self.office_id, table.table, keys)
        news = [
            (seen, states.get(seen.key)) for seen in (self._seen(table, row) for row in rows)
        ]
        # Seen already: the cursor's second read again, or an event came before the scan.
        news = [(seen, before) for seen, before in news if not _unchanged(seen, before)]
        side = [
            seen.key for seen, before in news
            if before is not None
            and side_effect_only(table.table, changed_columns(before.digests, seen.digests))
        ]
        logs = await securitylogs_of(
            self.db, table.table, [seen.key for seen, _ in news], side_keys=side
        )
        settled = await self._settled(table, [seen for seen, _ in news])
        recorded = []
        for seen, before in news:
            if seen.key not in settled:
                continue
            change = await self._attribute(table, seen, before, logs[seen.key], source)
            if await self.store.record(seen, change):
                self.observer.watch_change(self.office_id, change.door.value)
                recorded.append(change)
        return recorded

    async def _settled(self, table: WatchedTable, seen: Sequence[SeenRow]) -> set[int]:
        """The keys of the rows that did not change between their read and their logs' read.
        A row that changed again in between is left to the next read, which sees both changes
        as one, with both logs: the log of the later change must not explain the earlier state
        (it would leave the later change with no log, unexplained). The rows are read again
        after the logs, and compared whole, not by stamp: two writes may share a stamp's
        second. A row read the same after the logs' read as before it has among them the log of
        every write that made its state, when a write's log commits with it (the simulator's
        do; whether Open Dental's can commit after their row is not documented: such a log
        read too early leaves its change unexplained). A row gone since is settled: what was
        read is its last state."""
        again = await read_rows(self.db, table, [one.key for one in seen])
        return {
            one.key for one in seen
            if one.key not in again or _same_state(one, self._seen(table, again[one.key]))
        }

    async def _attribute(
        self, table: WatchedTable, seen: SeenRow, before: RowState | None,
        logs: Sequence[LogRow], source: Source,
    ) -> Attribution:
        od_row = OdRow(office_id=self.office_id, table=table.table, primary_key=seen.key)
        stories = await stories_of(self.ledger, od_row)
        window = timedelta(seconds=self.settings.log_window_s)
        side_stories = {
            log.about[1]: await self._stories_about(log)
            for log in logs
            if log.about is not None and abs(log.log_datetime - seen.stamp) <= window
        }
        return attribute_change(
            table=table, seen=seen, before=before, logs=logs, stories=stories,
            own_dev_name=self.own_dev_name, window=window, source=source,
            side_stories=side_stories,
        )

    async def _stories_about(self, log: LogRow) -> Sequence[IntentStory]:
        assert log.about is not None
        table, key = log.about
        return await stories_of(
            self.ledger, OdRow(office_id=self.office_id, table=table, primary_key=key)
        )

    def _seen(self, table: WatchedTable, row: dict[str, object]) -> SeenRow:
        epoch = row.get(EPOCH_COLUMN)
        changed_at = datetime.fromtimestamp(float(str(epoch)), UTC) if epoch is not None else (
            datetime.now(UTC)
        )
        digests = self.digester.row(table, row)
        return SeenRow(
            office_id=self.office_id, table=table.table, key=_key(row, table),
            stamp=_stamp(row, table), changed_at=changed_at, digests=digests,
            row_digest=self.digester.whole(digests),
        )


def _same_state(one: SeenRow, other: SeenRow) -> bool:
    return (one.stamp, one.row_digest) == (other.stamp, other.row_digest)


def _unchanged(seen: SeenRow, before: RowState | None) -> bool:
    return before is not None and (before.stamp, before.digests) == (seen.stamp, seen.digests)


def _key(row: dict[str, object], table: WatchedTable) -> int:
    return int(str(row[table.key]))


def _stamp(row: dict[str, object], table: WatchedTable) -> datetime:
    stamp = row[table.stamp]
    assert isinstance(stamp, datetime)
    return stamp
