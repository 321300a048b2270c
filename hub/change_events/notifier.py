"""The change notifier: owe each change to the vendors that may read it, then deliver what the
office owes, oldest first, each event with the values its vendor's agreement lists."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from contracts import ChangeDoor, ChangeEvent, change_event_id
from contracts.od_tables import ChangeValue, OdTable, WatchedTable, watched_tables
from hub.change_events import ChangeNotice
from hub.change_events.mysql_sends import MySqlChangeSends, OwedChange, SendState
from hub.registry import Registry
from hub.writer.finishing import PublishFailed

log = logging.getLogger(__name__)

# Rows one pass lists; a full batch that made progress is followed by the next at once.
BATCH_ROWS = 100

RowKey = tuple[str, int]  # (table, primary key)


class ChangePublisher(Protocol):
    async def change(self, vendor: str, event: ChangeEvent) -> None:
        """Publish, mandatory and confirmed; ``PublishFailed`` if the broker did not take it."""
        ...


class OfficeReads(Protocol):
    """The office's read-only connection (hub/opendental/readonly_sql.py ReadOnlyDatabase)."""

    async def select(
        self, query_name: str, sql: str, params: Sequence[object]
    ) -> list[dict[str, object]]: ...


@dataclass(frozen=True, kw_only=True)
class Notified:
    """What one notify did for an office."""

    owed: int = 0  # (vendor, change) pairs newly recorded
    sent: int = 0  # published and confirmed
    withdrawn: int = 0  # no longer covered by the vendor's agreement: never sent
    held: int = 0  # the broker refused them (or a vendor's earlier one): pending, tried again


@dataclass(kw_only=True)
class _Pass:
    sent: int = 0
    withdrawn: int = 0
    held: int = 0
    refused: set[str] = field(default_factory=set)  # vendors whose publish failed in this pass


@dataclass(frozen=True, kw_only=True)
class ChangeNotifier:
    registry: Registry
    sends: MySqlChangeSends
    publisher: ChangePublisher
    batch_rows: int = BATCH_ROWS

    async def notify(
        self, office: str, database: OfficeReads, notices: Sequence[ChangeNotice]
    ) -> Notified:
        """Owe ``notices`` (one office's) to the vendors that may read them, then deliver every
        event the office owes. Call it on every pass of the watch, with no notices too: that
        pass delivers what an earlier one could not. Raises ``TransientError`` or
        ``LedgerError`` when the hub's or the office's database fails; what was not settled
        stays owed."""
        owed = await self.sends.record(list(self.owed(office, notices)))
        delivered = await self.deliver(office, database)
        return Notified(
            owed=owed, sent=delivered.sent, withdrawn=delivered.withdrawn, held=delivered.held
        )

    def owed(self, office: str, notices: Sequence[ChangeNotice]) -> Iterator[OwedChange]:
        """One owed event per notice and vendor that may read its table, but the vendor whose
        own intent made the change."""
        for notice in notices:
            if notice.office != office:
                raise ValueError(f"a notice of office {notice.office!r} given for {office!r}")
            if notice.changed_at.tzinfo is None:  # its event id would depend on the local zone
                raise ValueError("a notice's changed_at must be aware (UTC)")
            readers = self.registry.readers(office, notice.table)
            for vendor in sorted(readers):
                if notice.door is ChangeDoor.HUB and notice.vendor == vendor:
                    continue  # its outcome event told it; never told twice
                yield _owed_change(vendor, notice)

    async def deliver(self, office: str, database: OfficeReads) -> Notified:
        """Publish what the office owes, oldest first; a vendor whose publish is refused keeps
        the rest of its events for the next pass, in order."""
        done = _Pass()
        while True:
            batch = await self.sends.pending(office, limit=self.batch_rows)
            before = done.sent + done.withdrawn
            await self._deliver_batch(office, database, batch, done)
            if len(batch) < self.batch_rows or done.sent + done.withdrawn == before:
                return Notified(sent=done.sent, withdrawn=done.withdrawn, held=done.held)
            done.held = 0  # the next batch lists the held ones again

    async def _deliver_batch(
        self, office: str, database: OfficeReads, batch: list[OwedChange], done: _Pass
    ) -> None:
        wanted = self._wanted(office, batch)
        rows = _RowValues(database=database, wanted=wanted)
        for change in batch:
            if change.vendor in done.refused:
                done.held += 1
                continue
            allowed = self.registry.readers(office, change.table).get(change.vendor)
            if allowed is None:
                await self.sends.settle(change, SendState.WITHDRAWN)
                done.withdrawn += 1
                continue
            values = await rows.values(change, allowed)
            if await self._publish(change, values):
                done.sent += 1
            else:
                done.refused.add(change.vendor)
                done.held += 1

    def _wanted(self, office: str, batch: list[OwedChange]) -> dict[RowKey, set[str]]:
        """Per row, every column any of the batch's events may carry: read once for all."""
        wanted: dict[RowKey, set[str]] = {}
        for change in batch:
            allowed = self.registry.readers(office, change.table).get(change.vendor, frozenset())
            columns = wanted.setdefault((change.table, change.primary_key), set())
            columns |= allowed & set(change.columns)
        return wanted

    async def _publish(self, change: OwedChange, values: Mapping[str, ChangeValue]) -> bool:
        event = ChangeEvent(
            event_id=change.event_id,
            office_id=change.office,
            table=WatchedTable(change.table),
            primary_key=change.primary_key,
            door=change.door,
            changed_at=change.changed_at,
            columns=list(change.columns),
            values=dict(values),
        )
        try:
            await self.publisher.change(change.vendor, event)
        except PublishFailed as exc:
            await self.sends.failed(change, str(exc))
            log.warning(
                "change event not published (%s); it waits for the next pass", exc,
                extra={"vendor": change.vendor, "office": change.office,
                       "event_id": change.event_id},
            )
            return False
        await self.sends.settle(change, SendState.SENT)
        return True


@dataclass(kw_only=True)
class _RowValues:
    """The rows' current values, each row read once, by primary key, when first needed."""

    database: OfficeReads
    wanted: Mapping[RowKey, set[str]]
    read: dict[RowKey, dict[str, ChangeValue]] = field(default_factory=dict)

    async def values(self, change: OwedChange, allowed: frozenset[str]) -> dict[str, ChangeValue]:
        """The changed columns ``allowed`` lists, as they are now; none if the row is gone."""
        columns = allowed & set(change.columns)
        if not columns:
            return {}
        key = (change.table, change.primary_key)
        if key not in self.read:
            self.read[key] = await self._read(change.table, change.primary_key, self.wanted[key])
        row = self.read[key]
        return {name: row[name] for name in change.columns if name in columns and name in row}

    async def _read(
        self, table: str, primary_key: int, columns: set[str]
    ) -> dict[str, ChangeValue]:
        known = watched_tables()[table]
        names = sorted(name for name in columns if name in known.columns)
        records = await self.database.select(
            f"change_events.values.{table}", value_query(known, names), (primary_key,)
        )
        if not records:
            return {}
        return {name: known.columns[name].api_value(records[0][name]) for name in names}


def value_query(table: OdTable, columns: Sequence[str]) -> str:
    # Names come from contracts/od_tables.json (a registry naming others is refused at load).
    listed = ", ".join(f"`{name}`" for name in columns)
    return f"SELECT {listed} FROM `{table.name}` WHERE `{table.primary_key}` = %s"


def _owed_change(vendor: str, notice: ChangeNotice) -> OwedChange:
    return OwedChange(
        id=0,  # the database numbers it
        vendor=vendor,
        event_id=change_event_id(
            notice.office, notice.table, notice.primary_key, notice.changed_at
        ),
        office=notice.office,
        table=notice.table,
        primary_key=notice.primary_key,
        door=notice.door,
        changed_at=notice.changed_at,
        columns=notice.columns,
    )
