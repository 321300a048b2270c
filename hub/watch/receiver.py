"""Open Dental's API Subscriptions pushes, taken in by ``hub watch`` (opendental-api.md §6).

Open Dental POSTs a JSON array of full rows of the watched table to the subscription's
EndPointUrl, with ``Authorization: {CustomerKey}``, ``Workstation`` and ``Event-Type:
WatchTable: Patient`` (``Appointment``, ``PatField``, ``AppointmentDeleted``). Each office's
subscription points at ``POST /od-events/<office>``; a call is taken only when its
Authorization is that office's customer key (401 otherwise: a stranger must not make the watch
read rows for it).

The endpoint answers at once: it keeps (table, key, DateTStamp) of each row, never the row's
values, on a queue that the watch drains (``drain``), reading each row again from the office's
database and attributing it like a scanned one. A row already queued or handled with the same
stamp is a duplicate (Open Dental resends up to three days of changes after a failed delivery,
and a blank Workstation sends from every instance) and is dropped. Deleted appointments have no
row left to read; they are counted and left to the scan of histappointment's owner, Open Dental.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from hub.opendental.reconcile_queries import OdTable
from hub.registry import Office
from hub.watch.tables import WATCHED

log = logging.getLogger("hub.watch.events")

EVENT_TABLES = {
    "WatchTable: Patient": OdTable.PATIENT,
    "WatchTable: Appointment": OdTable.APPOINTMENT,
    "WatchTable: PatField": OdTable.PATFIELD,
}
DELETED = "WatchTable: AppointmentDeleted"
REMEMBERED = 100_000  # (office, table, key, stamp) kept to spot duplicates, newest
QUEUE_MAX = 100_000  # rows waiting; beyond, a push is answered 503 and Open Dental sends again
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_BODY_BYTES = 64 * 1024 * 1024  # 1000 full patient rows with room to spare


@dataclass(frozen=True, kw_only=True)
class RowEvent:
    office_id: str
    table: OdTable
    key: int
    stamp: datetime | None  # None when the row came without a DateTStamp


# What the receiver counts, (office, disposition): ``HubMetrics.watch_event`` is one.
Count = Callable[[str, str], None]


class EventReceiver:
    """The aiohttp app of the endpoint and the queue it fills."""

    def __init__(self, offices: Mapping[str, Office], count: Count) -> None:
        self._offices = offices
        self._count = count
        self.queue: asyncio.Queue[RowEvent] = asyncio.Queue(QUEUE_MAX)
        self._seen: OrderedDict[tuple[str, str, int, datetime | None], None] = OrderedDict()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/od-events/{office}", self._post)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        office_id = request.match_info["office"]
        office = self._offices.get(office_id)
        if office is None or not _authorized(office, request.headers.get("Authorization", "")):
            self._count(office_id, "unauthorized")
            return web.Response(status=401, text="Unauthorized")
        event_type = request.headers.get("Event-Type", "")
        try:
            rows = await request.json()
        except ValueError:
            self._count(office_id, "invalid")
            return web.Response(status=400, text="the body is not JSON")
        if not isinstance(rows, list):
            self._count(office_id, "invalid")
            return web.Response(status=400, text="the body is not a JSON array")
        return self._take(office_id, event_type, rows)

    def _take(self, office_id: str, event_type: str, rows: list[object]) -> web.Response:
        table = EVENT_TABLES.get(event_type)
        if table is None:
            disposition = "accepted" if event_type == DELETED else "invalid"
            for _ in rows:
                self._count(office_id, disposition)
            return web.Response(status=200)
        if self.queue.qsize() + len(rows) > QUEUE_MAX:
            return web.Response(status=503, text="busy: send again later")
        for row in rows:
            event = _event(office_id, table, row)
            if event is None:
                self._count(office_id, "invalid")
            elif self._remember(event):
                self.queue.put_nowait(event)
                self._count(office_id, "accepted")
            else:
                self._count(office_id, "duplicate")
        return web.Response(status=200)

    def _remember(self, event: RowEvent) -> bool:
        """True the first time this row's state arrives."""
        mark = (event.office_id, event.table.value, event.key, event.stamp)
        if mark in self._seen:
            self._seen.move_to_end(mark)
            return False
        self._seen[mark] = None
        if len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        return True


def _authorized(office: Office, given: str) -> bool:
    expected = office.customer_key.get_secret_value()
    return hmac.compare_digest(given.encode(), expected.encode())


def _event(office_id: str, table: OdTable, row: object) -> RowEvent | None:
    watched = WATCHED[table]
    if not isinstance(row, dict):
        return None
    key = row.get(watched.key)
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    if not isinstance(key, int) or isinstance(key, bool) or key <= 0:
        return None
    stamp = _stamp(row.get(watched.stamp))
    return RowEvent(office_id=office_id, table=table, key=key, stamp=stamp)


def _stamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, STAMP_FORMAT)
    except ValueError:
        return None
