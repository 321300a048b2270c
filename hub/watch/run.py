"""``hub watch``'s composition: one watcher per office of the registry, the events endpoint,
the metrics endpoint, and the loops that scan, drain events and purge, until told to stop.

``opened_watch`` builds the parts and closes them; ``scan_once`` is one scan of every office
(the demo and the chaos run call it to attribute what they did without waiting an interval).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from hub.errors import HubError
from hub.ledger import MySqlLedger
from hub.observability import FamilyRegistry, HubMetrics, LabelBounds
from hub.observability.server import serving
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import OdTable
from hub.registry import Registry, load_hub_registry
from hub.settings import HubSettings
from hub.watch.digests import Digester
from hub.watch.model import Attribution, Door
from hub.watch.receiver import EventReceiver, RowEvent
from hub.watch.scanner import OfficeWatcher, Tell
from hub.watch.store import WatchStore
from hub.watch.telling import change_teller

log = logging.getLogger("hub.watch")

PURGE_EVERY_S = 3600.0
LEDGER_CONNECTIONS = 4


@dataclass(frozen=True, kw_only=True)
class Watch:
    store: WatchStore
    watchers: Mapping[str, OfficeWatcher]


@asynccontextmanager
async def opened_watch(
    settings: HubSettings, registry: Registry, metrics: HubMetrics, tell: Tell | None = None
) -> AsyncIterator[Watch]:
    """The hub database's store and ledger, and each office's watcher over its own read-only
    pool (at most ``office_concurrency`` queries at once); all closed on exit. ``tell`` is
    given every pass's changes (hub/watch/telling.py)."""
    async with AsyncExitStack() as stack:
        store = await WatchStore.open(settings.ledger_db)
        stack.push_async_callback(store.close)
        ledger = await MySqlLedger.open(
            settings.ledger_db, retention_days=settings.ledger_retention_days,
            max_connections=LEDGER_CONNECTIONS,
        )
        stack.push_async_callback(ledger.close)
        digester = Digester(await store.digest_key())
        watchers = {}
        for office in registry.offices.values():
            db = await stack.enter_async_context(ReadOnlyDatabase.open(
                office.db.connection(settings.tls), timeout_s=settings.od_sql_timeout_s,
                max_concurrent=settings.watch.office_concurrency,
                observer=metrics.od_sql_observer(), link=f"office {office.id}'s database",
            ))
            watchers[office.id] = OfficeWatcher(
                office_id=office.id, db=db, customer_key=office.customer_key.get_secret_value(),
                store=store, ledger=ledger, digester=digester, settings=settings.watch,
                observer=metrics, tell=tell,
            )
        yield Watch(store=store, watchers=watchers)


async def scan_once(watch: Watch) -> list[Attribution]:
    """One scan of every office, side by side, each office's changes told as a pass of the
    watch tells them (change events); the changes attributed. An office whose database fails
    is logged and skipped."""
    results = await asyncio.gather(
        *(watcher.scan_once() for watcher in watch.watchers.values()), return_exceptions=True
    )
    changes: list[Attribution] = []
    for watcher, result in zip(watch.watchers.values(), results, strict=True):
        if isinstance(result, HubError):
            log.warning("office %s: scan failed: %s", watcher.office_id, result)
        elif isinstance(result, BaseException):
            raise result
        else:
            await watcher.tell_changes(result.to_tell)
            changes += result.changes
    return changes


async def handle_event(watch: Watch, event: RowEvent) -> Attribution | None:
    """One pushed row, read again and attributed; None if it was seen or is gone."""
    watcher = watch.watchers.get(event.office_id)
    if watcher is None:
        return None
    try:
        change = await watcher.changed_row(event.table, event.key)
        if change is not None:
            await watcher.tell_changes([change])
        return change
    except HubError as exc:
        # The scan finds the row later: an event only makes the watch quicker.
        log.warning("office %s: event for %s not handled: %s", event.office_id,
                    event.table.value, exc)
        return None


async def _drain(watch: Watch, receiver: EventReceiver) -> None:
    while True:
        event = await receiver.queue.get()
        await handle_event(watch, event)


async def _purge(watch: Watch, retention: timedelta) -> None:
    while True:
        try:
            removed = await watch.store.purge(retention)
            if removed:
                log.info("purged %d changes past their retention", removed)
        except HubError as exc:
            log.warning("purging old changes failed: %s", exc)
        await asyncio.sleep(PURGE_EVERY_S)


@asynccontextmanager
async def receiving(receiver: EventReceiver, host: str, port: int) -> AsyncIterator[int]:
    """The events endpoint for the block; the port it bound."""
    runner = web.AppRunner(receiver.app(), access_log=None)
    await runner.setup()
    try:
        sock = socket.create_server((host, port))  # bound here, so port 0 tells its choice
        await web.SockSite(runner, sock).start()
        yield int(sock.getsockname()[1])
    finally:
        await runner.cleanup()


async def run_watch(settings: HubSettings, environ: Mapping[str, str], stop: asyncio.Event) -> None:
    """``hub watch``: until ``stop`` is set."""
    registry = await asyncio.to_thread(load_hub_registry, settings, environ)
    collector = FamilyRegistry()
    metrics = HubMetrics(collector, LabelBounds.from_registry(registry))
    receiver = EventReceiver(registry.offices, metrics.watch_event)
    watch_settings = settings.watch
    async with (
        serving(collector, {}, host=settings.metrics_host, port=watch_settings.metrics_port)
        as server,
        change_teller(settings, registry) as tell,
        opened_watch(settings, registry, metrics, tell) as watch,
        receiving(receiver, watch_settings.events_host, watch_settings.events_port) as port,
    ):
        log.info("hub watch: %d offices; events on port %d, metrics at %s",
                 len(watch.watchers), port, server.url)
        helpers = [
            asyncio.create_task(_drain(watch, receiver)),
            asyncio.create_task(
                _purge(watch, timedelta(days=watch_settings.retention_days))
            ),
        ]
        offices = [asyncio.create_task(w.run(stop)) for w in watch.watchers.values()]
        stopping = asyncio.create_task(stop.wait())
        # An office's loop ends only when told to, or on a bug: then the whole watch stops (and
        # the bug is raised below) so that its supervisor starts it again.
        await asyncio.wait([stopping, *offices], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        log.info("hub watch: stopping")
        for task in helpers:
            task.cancel()
        await stopping
        await asyncio.gather(*offices)
        for task in helpers:
            with suppress(asyncio.CancelledError):
                await task
        log.info("hub watch: stopped")


async def read_changes(
    settings: HubSettings, office_id: str, since: datetime, door: Door | None
) -> list[Attribution]:
    """``hub changes``: the office's recorded changes since ``since`` (UTC)."""
    store = await WatchStore.open(settings.ledger_db, max_connections=1)
    try:
        return await store.changes(office_id, since, door)
    finally:
        await store.close()


async def read_row_changes(
    settings: HubSettings, office_id: str, table: OdTable, key: int
) -> list[Attribution]:
    """``hub trace --od``: every recorded change of one row."""
    store = await WatchStore.open(settings.ledger_db, max_connections=1)
    try:
        return await store.row_changes(office_id, table, key)
    finally:
        await store.close()
