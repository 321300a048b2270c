"""The database events of API Subscriptions: the simulator plays OpenDental.exe or the API
Service on a workstation, polling each subscription's table and POSTing what changed.

One asyncio task per running simulator watches the offices' ``apisubscription`` tables (at once
when the API changed them, else every ``EventConfig.rescan_s``) and keeps one task per live
subscription. Each subscription's task, every PollingSeconds (``poll_interval_s`` in tests):

- reads the subscription again (a PUT or DELETE takes effect on the next poll), and stops once
  its DateTimeStop has passed;
- selects the watched rows changed since DateTimeStart, but no further back than three days
  (Open Dental drops older changes when delivery resumes), up to the database's NOW():
  Patient and Appointment by DateTStamp, PatField by SecDateTEdit, AppointmentDeleted from
  ``histappointment`` rows with HistApptAction Deleted by HistDateTStamp;
- POSTs them, rendered as the API's GET renders them, in JSON arrays of at most 1000 rows, to
  EndPointUrl with ``Authorization: {CustomerKey}``, ``Workstation`` and ``Event-Type:
  WatchTable: {table}``;
- only when every batch was answered 200, moves DateTimeStart to the poll's time. Otherwise it
  keeps it and tries again next poll: delivery is blind, as Open Dental's (no acknowledgement,
  no other retry).

The comparison is ``>=``, as Open Dental documents it, so a row changed in the poll's own
second is sent again by the next poll: receivers deduplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiomysql
import httpx
from aiohttp import web

from odsim.catalog import enum_of, table
from odsim.config import SimConfig
from odsim.db import OfficePools
from odsim.fields import NO_DATETIME
from odsim.handlers.appointment_fields import appointment_fields
from odsim.handlers.patfields import PATFIELD_OUT
from odsim.handlers.patient_fields import full_fields
from odsim.lookups import load_lookups
from odsim.render import JsonObject, render

log = logging.getLogger(__name__)

BATCH_MAX = 1000  # Open Dental's most elements an event carries (23.2.1)
RESEND_WINDOW = timedelta(days=3)  # how far back a resend reaches after failed deliveries


@dataclass(frozen=True, kw_only=True)
class Watch:
    """Where a WatchTable's changes are and how they render."""

    table: str
    stamp: str  # the change-time column
    where: str = ""  # an extra trusted SQL condition
    render_as: str = ""  # the table whose GET rendering the rows get ("" for ``table``)


_DELETED = enum_of("histappointment", "HistApptAction")["Deleted"]
WATCHES: dict[str, Watch] = {
    "Patient": Watch(table="patient", stamp="DateTStamp"),
    "Appointment": Watch(table="appointment", stamp="DateTStamp"),
    "PatField": Watch(table="patfield", stamp="SecDateTEdit"),
    "AppointmentDeleted": Watch(
        table="histappointment", stamp="HistDateTStamp",
        where=f"HistApptAction = {_DELETED}", render_as="appointment",
    ),
}


@dataclass(frozen=True, kw_only=True)
class Subscription:
    database: str
    num: int
    url: str
    workstation: str
    customer_key: str
    watch_table: str
    polling_s: int
    start: datetime
    stop: datetime

    @classmethod
    def of(cls, database: str, row: dict[str, object]) -> Subscription:
        return cls(
            database=database, num=int(str(row["ApiSubscriptionNum"])),
            url=str(row["EndPointUrl"]), workstation=str(row["Workstation"]),
            customer_key=str(row["CustomerKey"]), watch_table=str(row["WatchTable"]),
            polling_s=int(str(row["PollingSeconds"])),
            start=_as_datetime(row["DateTimeStart"]), stop=_as_datetime(row["DateTimeStop"]),
        )

    def stopped(self, now: datetime) -> bool:
        return self.stop != NO_DATETIME and self.stop < now


def _unless_cancelled() -> None:
    """Re-raise a cancellation that aiomysql turned into its own error (a query cancelled
    mid-way fails its rollback with InterfaceError): a stopping simulator must stop its tasks."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _as_datetime(value: object) -> datetime:
    # MariaDB's 0001-01-01 reaches Python as a datetime; a zero date would come back as None.
    return value if isinstance(value, datetime) else NO_DATETIME


class SubscriptionPoller:
    """Fires the subscriptions of every office database the configuration names."""

    def __init__(self, config: SimConfig, pools: OfficePools) -> None:
        self._config = config.events
        self._pools = pools
        self._databases = sorted({customer.database for customer in config.customers})
        self._changed = asyncio.Event()
        self._tasks: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None

    def subscriptions_changed(self) -> None:
        self._changed.set()

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        """An aiohttp cleanup context: poll while the application runs."""
        timeout = httpx.Timeout(self._config.post_timeout_s)
        async with httpx.AsyncClient(timeout=timeout) as client:
            self._client = client
            supervisor = asyncio.create_task(self._supervise(), name="odsim-subscriptions")
            try:
                yield
            finally:
                supervisor.cancel()
                tasks = [supervisor, *self._tasks.values()]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._tasks.clear()

    async def _supervise(self) -> None:
        while True:
            self._changed.clear()
            try:
                await self._start_new()
            except (aiomysql.Error, OSError):
                _unless_cancelled()
                log.warning("subscriptions not read", exc_info=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._config.rescan_s):
                    await self._changed.wait()

    def _fires(self, workstation: str) -> bool:
        mine = self._config.workstation
        return not mine or workstation in ("", mine)

    async def _start_new(self) -> None:
        self._tasks = {key: task for key, task in self._tasks.items() if not task.done()}
        for database in self._databases:
            async with self._pools.read(database) as cur:
                await cur.execute(
                    "SELECT * FROM apisubscription WHERE WatchTable <> ''"
                    " AND (DateTimeStop = %s OR DateTimeStop >= NOW())", (NO_DATETIME,),
                )
                rows = list(await cur.fetchall())
            for row in rows:
                sub = Subscription.of(database, row)
                key = (database, sub.num)
                if key in self._tasks or not self._fires(sub.workstation):
                    continue
                if sub.watch_table not in WATCHES:
                    continue  # written straight into the table: a table the sim does not fire
                self._tasks[key] = asyncio.create_task(
                    self._run(database, sub.num), name=f"odsim-subscription-{database}-{sub.num}"
                )

    async def _load(self, database: str, num: int) -> Subscription | None:
        async with self._pools.read(database) as cur:
            await cur.execute("SELECT * FROM apisubscription WHERE ApiSubscriptionNum = %s",
                              (num,))
            row = await cur.fetchone()
        return None if row is None else Subscription.of(database, row)

    async def _run(self, database: str, num: int) -> None:
        while True:
            sub = await self._load(database, num)
            if sub is None or sub.watch_table not in WATCHES or not self._fires(sub.workstation):
                return
            try:
                if not await self._poll(sub):
                    return
            except (aiomysql.Error, OSError):
                _unless_cancelled()
                log.warning("subscription poll failed", extra={"subscription": num},
                            exc_info=True)
            await asyncio.sleep(self._config.poll_interval_s or max(sub.polling_s, 1))

    async def _poll(self, sub: Subscription) -> bool:
        """One poll: deliver what changed, advance DateTimeStart after 200s. False once stopped."""
        async with self._pools.read(sub.database) as cur:
            await cur.execute("SELECT NOW() AS now")
            polled: datetime = (await cur.fetchone())["now"]
        if sub.stopped(polled):
            return False
        if sub.start > polled:
            return True  # not started yet
        since = max(sub.start, polled - RESEND_WINDOW)
        delivered = True
        async for batch in self._batches(sub, since, polled):
            if not await self._send(sub, batch):
                delivered = False
                break
        if delivered:
            async with self._pools.transaction(sub.database) as cur:
                # Only if the subscription still starts where this poll began: a PUT in between
                # wins.
                await cur.execute(
                    "UPDATE apisubscription SET DateTimeStart = %s"
                    " WHERE ApiSubscriptionNum = %s AND DateTimeStart = %s",
                    (polled, sub.num, sub.start),
                )
        return True

    async def _batches(
        self, sub: Subscription, since: datetime, until: datetime
    ) -> AsyncIterator[list[JsonObject]]:
        watch = WATCHES[sub.watch_table]
        pk = table(watch.table).primary_key
        extra = f" AND {watch.where}" if watch.where else ""
        after: tuple[datetime, int] | None = None
        while True:
            keyset = ""
            params: list[object] = [since, until]
            if after is not None:
                keyset = f" AND (`{watch.stamp}` > %s OR (`{watch.stamp}` = %s AND `{pk}` > %s))"
                params += [after[0], after[0], after[1]]
            async with self._pools.read(sub.database) as cur:
                await cur.execute(
                    f"SELECT * FROM `{watch.table}` WHERE `{watch.stamp}` >= %s"
                    f" AND `{watch.stamp}` <= %s{extra}{keyset}"
                    f" ORDER BY `{watch.stamp}`, `{pk}` LIMIT {BATCH_MAX}",
                    params,
                )
                rows = list(await cur.fetchall())
                if not rows:
                    return
                render_row = await _renderer(cur, watch)
            yield [render_row(row) for row in rows]
            if len(rows) < BATCH_MAX:
                return
            after = (rows[-1][watch.stamp], int(rows[-1][pk]))

    def _workstation(self, sub: Subscription) -> str:
        return self._config.workstation or sub.workstation or socket.gethostname()

    async def _send(self, sub: Subscription, batch: list[JsonObject]) -> bool:
        assert self._client is not None
        headers = {
            "Authorization": sub.customer_key,
            "Workstation": self._workstation(sub),
            "Event-Type": f"WatchTable: {sub.watch_table}",
            "Content-Type": "application/json",
        }
        try:
            reply = await self._client.post(sub.url, content=json.dumps(batch), headers=headers)
        except httpx.HTTPError as exc:
            log.warning("event not delivered", extra={"subscription": sub.num,
                                                     "error": type(exc).__name__})
            return False
        if reply.status_code != 200:
            log.warning("event refused", extra={"subscription": sub.num,
                                               "status": reply.status_code})
            return False
        return True


async def _renderer(
    cur: aiomysql.DictCursor, watch: Watch
) -> Callable[[dict[str, object]], JsonObject]:
    name = watch.render_as or watch.table
    if name == "patfield":
        return lambda row: render("patfield", row, PATFIELD_OUT)
    lookups = await load_lookups(cur)
    fields = full_fields(lookups) if name == "patient" else appointment_fields(lookups)
    return lambda row: render(name, row, fields)
