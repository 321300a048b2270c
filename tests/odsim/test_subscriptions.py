"""API Subscriptions (odsim/handlers/subscriptions.py) and their database events
(odsim/events.py), delivered to a real HTTP receiver on a loopback port. Polling is shortened
by configuration; past changes are made by setting DateTStamp and DateTimeStart in the past."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web

from odsim.config import EventConfig, Permission
from odsim.server import running_simulator
from tests.odsim.conftest import (
    FULL_KEY,
    READ_ONLY_KEY,
    NewPatient,
    Office,
    auth,
    key_without,
    sim_config,
)
from tests.support.http_server import serving_app

GUARD_S = 30.0  # a guard against hanging, not a timing
PAST = "%Y-%m-%d %H:%M:%S"


@dataclass
class Event:
    path: str
    headers: dict[str, str]
    rows: list[dict[str, Any]]
    status: int


@dataclass
class Receiver:
    """An endpoint that records every event and answers ``status``."""

    url: str = ""
    status: int = 200
    status_of_path: dict[str, int] = field(default_factory=dict)  # overrides ``status``
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)

    async def handle(self, request: web.Request) -> web.Response:
        status = self.status_of_path.get(request.path, self.status)
        event = Event(path=request.path, headers=dict(request.headers),
                      rows=await request.json(), status=status)
        await self.events.put(event)
        return web.Response(status=status)

    async def next(self, path: str | None = None) -> Event:
        async with asyncio.timeout(GUARD_S):
            while True:
                event = await self.events.get()
                if path is None or event.path == path:
                    return event


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    async with serving_app(app) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
async def office(empty_database: str, receiver: Receiver) -> AsyncIterator[Office]:
    """The simulator polling every 50 ms instead of each subscription's PollingSeconds. It
    stops before the receiver does (the receiver would wait for its kept-alive connections)."""
    events = EventConfig(poll_interval_s=0.05, rescan_s=0.2, workstation="SIMWS")
    config = sim_config(empty_database).model_copy(update={"events": events})
    async with running_simulator(config) as sim:
        yield Office(sim=sim, database=empty_database)


def _ago(**delta: float) -> str:
    return (datetime.now() - timedelta(**delta)).strftime(PAST)


async def _subscribe(api: httpx.AsyncClient, url: str, table: str, **fields: object) -> int:
    reply = await api.post("/subscriptions", json={
        "EndPointUrl": url, "WatchTable": table, "PollingSeconds": 5, **fields})
    assert reply.status_code == 201, reply.text
    num: int = reply.json()["SubscriptionNum"]
    return num


async def _start(office: Office, num: int) -> datetime:
    row = await office.row(
        "SELECT DateTimeStart FROM apisubscription WHERE ApiSubscriptionNum = %s", num)
    start: datetime = row["DateTimeStart"]
    return start


async def test_subscriptions_post_get_put_delete(office: Office, api: httpx.AsyncClient) -> None:
    # When a subscription is posted with a ReadAll-only key
    async with office.client(READ_ONLY_KEY) as reader:
        posted = await reader.post("/subscriptions", json={
            "EndPointUrl": "http://127.0.0.1:9/events", "Workstation": "FRONT1",
            "WatchTable": "Appointment", "PollingSeconds": 5})
        listed = await reader.get("/subscriptions")
        num = posted.json()["SubscriptionNum"]
        put = await reader.put(f"/subscriptions/{num}", json={"Note": "hub"})
        refused = await reader.delete(f"/subscriptions/{num}")

    # Then 201 with Open Dental's fields, the caller's key, and DateTimeStart now
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert posted.headers["Location"] == f"{office.sim.base_url}/subscriptions/{num}"
    assert {k: v for k, v in body.items() if k not in ("SubscriptionNum", "DateTimeStart")} == {
        "EndPointUrl": "http://127.0.0.1:9/events", "Workstation": "FRONT1",
        "CustomerKey": READ_ONLY_KEY, "WatchTable": "Appointment", "PollingSeconds": 5,
        "UiEventType": "", "DateTimeStop": "0001-01-01 00:00:00", "Note": ""}
    started = datetime.strptime(body["DateTimeStart"], PAST)
    assert abs(datetime.now() - started) < timedelta(minutes=1)
    # And GET lists it; PUT is sparse; DELETE is not in ReadAll
    assert [s["SubscriptionNum"] for s in listed.json()] == [num]
    assert (put.json()["Note"], put.json()["WatchTable"]) == ("hub", "Appointment")
    assert refused.status_code == 401
    # And another key of the same office sees none of it, and cannot change it
    assert (await api.get("/subscriptions")).json() == []
    assert (await api.put(f"/subscriptions/{num}", json={"Note": "x"})).status_code == 404
    stored = await office.row("SELECT CustomerKey, WatchTable, PollingSeconds, Note"
                              " FROM apisubscription WHERE ApiSubscriptionNum = %s", num)
    assert stored == {"CustomerKey": READ_ONLY_KEY, "WatchTable": "Appointment",
                      "PollingSeconds": 5, "Note": "hub"}
    # And only the owning key, with AllOthers, deletes a subscription
    async with httpx.AsyncClient(base_url=office.sim.base_url,
                                 headers=auth(key_without(Permission.PAYMENTS))) as other:
        assert (await other.delete(f"/subscriptions/{num}")).status_code == 404
    own = await _subscribe(api, "http://127.0.0.1:9/mine", "Patient")
    assert (await api.delete(f"/subscriptions/{own}")).status_code == 200
    assert [r["ApiSubscriptionNum"] for r in await office.rows(
        "SELECT ApiSubscriptionNum FROM apisubscription")] == [num]


@pytest.mark.parametrize(("body", "message"), [
    ({"WatchTable": "Operatory", "PollingSeconds": 5},
     "WatchTable is invalid. Must be one of: Appointment, AppointmentDeleted, PatField,"
     " Patient."),
    ({"WatchTable": "Patient"}, "PollingSeconds is required."),
    ({"WatchTable": "Patient", "UiEventType": "PatientSelected", "PollingSeconds": 5},
     "Exactly one of WatchTable or UiEventType is required."),
    ({}, "Exactly one of WatchTable or UiEventType is required."),
    ({"EndPointUrl": "", "WatchTable": "Patient", "PollingSeconds": 5},
     "EndPointUrl is required."),
    ({"EndPointUrl": "ftp://x", "WatchTable": "Patient", "PollingSeconds": 5},
     "EndPointUrl is invalid. Must start with http:// or https://."),
    ({"WatchTable": "Patient", "PollingSeconds": 5, "DateTimeStart": "2024-01-01"},
     "DateTimeStart is invalid. Format must be yyyy-MM-dd HH:mm:ss."),
])
async def test_subscription_validation(
    api: httpx.AsyncClient, body: dict[str, object], message: str
) -> None:
    reply = await api.post("/subscriptions", json={"EndPointUrl": "http://x/", **body})
    assert (reply.status_code, reply.json()) == (400, message)


async def test_changed_rows_are_posted_with_open_dentals_headers(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient, receiver: Receiver
) -> None:
    # Given a patient with an appointment and a patfield, all made through the API
    pat = await new_patient(Gender="Female")
    apt = (await api.post("/appointments", json={
        "PatNum": pat, "Op": 1, "AptDateTime": "2030-03-04 09:30:00"})).json()["AptNum"]
    field_num = (await api.post("/patfields", json={
        "PatNum": pat, "FieldName": "Referral Source", "FieldValue": "Friend"}
    )).json()["PatFieldNum"]

    # When each table is subscribed to from a minute ago
    for table in ("Patient", "Appointment", "PatField"):
        await _subscribe(api, f"{receiver.url}/{table.lower()}", table,
                         DateTimeStart=_ago(minutes=1))

    # Then each endpoint gets its rows as the API's GET renders them, with the customer key,
    # the workstation and the event type as headers
    patient = await receiver.next("/patient")
    appointment = await receiver.next("/appointment")
    patfield = await receiver.next("/patfield")
    for event, table in ((patient, "Patient"), (appointment, "Appointment"),
                         (patfield, "PatField")):
        assert event.headers["Authorization"] == FULL_KEY
        assert event.headers["Workstation"] == "SIMWS"
        assert event.headers["Event-Type"] == f"WatchTable: {table}"
        assert event.headers["Content-Type"] == "application/json"
    assert [(r["PatNum"], r["Gender"], r["PatStatus"]) for r in patient.rows] == [
        (pat, "Female", "Patient")]
    assert (await api.get(f"/patients/{pat}")).json() == patient.rows[0]
    assert [(r["AptNum"], r["AptStatus"], r["confirmed"]) for r in appointment.rows] == [
        (apt, "Scheduled", "Not Called")]
    assert [(r["PatFieldNum"], r["FieldValue"]) for r in patfield.rows] == [
        (field_num, "Friend")]


async def test_start_advances_only_after_a_200(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient, receiver: Receiver
) -> None:
    # Given an endpoint that fails, and a patient changed after the subscription's start
    receiver.status = 500
    pat = await new_patient()
    given_start = _ago(minutes=10)
    num = await _subscribe(api, receiver.url, "Patient", DateTimeStart=given_start)

    # When two deliveries fail (the second proves the first poll had finished)
    first = await receiver.next()
    await receiver.next()

    # Then DateTimeStart has not moved
    assert [r["PatNum"] for r in first.rows] == [pat]
    assert (await _start(office, num)).strftime(PAST) == given_start

    # When the endpoint answers 200 again
    receiver.status = 200
    while (event := await receiver.next()).status != 200:
        pass

    # Then the patient was sent again
    assert [r["PatNum"] for r in event.rows] == [pat]
    # And, by the next event (a poll begins after the last one has finished), DateTimeStart
    # had moved up to the poll's time
    second = await new_patient(FName="Second")
    assert second in [r["PatNum"] for r in (await receiver.next()).rows]
    assert datetime.now() - await _start(office, num) < timedelta(minutes=1)


async def test_batches_hold_at_most_1000_rows(
    office: Office, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    # Given 2345 patients changed an hour ago (written straight into the table)
    await office.rows(
        "INSERT INTO patient (LName, FName, DateTStamp) SELECT 'Batch', CONCAT('P', seq),"
        " NOW() - INTERVAL 1 HOUR FROM seq_1_to_2345"
    )

    # When a subscription starts two hours ago
    await _subscribe(api, receiver.url, "Patient", DateTimeStart=_ago(hours=2))

    # Then they arrive in batches of 1000, 1000 and 345, each patient once
    batches = [await receiver.next() for _ in range(3)]
    assert [len(b.rows) for b in batches] == [1000, 1000, 345]
    pat_nums = [r["PatNum"] for b in batches for r in b.rows]
    assert len(set(pat_nums)) == 2345


async def test_a_resend_reaches_back_three_days_at_most(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient, receiver: Receiver
) -> None:
    # Given patients changed 4 days and 2 days ago
    old, recent = await new_patient(FName="Old"), await new_patient(FName="Recent")
    for pat, days in ((old, 4), (recent, 2)):
        await office.rows("UPDATE patient SET DateTStamp = NOW() - INTERVAL %s DAY"
                          " WHERE PatNum = %s", days, pat)

    # When a subscription whose deliveries failed for 5 days (DateTimeStart 5 days back) succeeds
    await _subscribe(api, receiver.url, "Patient", DateTimeStart=_ago(days=5))
    event = await receiver.next()

    # Then only the change of the last 3 days is sent; the older one is dropped
    assert [r["PatNum"] for r in event.rows] == [recent]


async def test_date_time_stop_ends_a_subscription(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient, receiver: Receiver
) -> None:
    # Given a patient, a subscription that stopped a minute ago, and a live one whose endpoint
    # fails, so that it is sent the patient again on every poll
    pat = await new_patient()
    receiver.status_of_path["/live"] = 500
    stopped = await _subscribe(api, f"{receiver.url}/stopped", "Patient",
                               DateTimeStart=_ago(hours=1), DateTimeStop=_ago(minutes=1))
    await _subscribe(api, f"{receiver.url}/live", "Patient", DateTimeStart=_ago(hours=1))

    # When the live one has been polled three times
    seen = [await receiver.next() for _ in range(3)]

    # Then only the live one was sent anything, and the stopped one's start never moved
    assert [(e.path, [r["PatNum"] for r in e.rows]) for e in seen] == [("/live", [pat])] * 3
    assert (await _start(office, stopped)).strftime(PAST) <= _ago(minutes=59)

    # When its DateTimeStop is moved into the future
    reply = await api.put(f"/subscriptions/{stopped}",
                          json={"DateTimeStop": "2099-01-01 00:00:00"})

    # Then it fires
    assert reply.status_code == 200, reply.text
    assert [r["PatNum"] for r in (await receiver.next("/stopped")).rows] == [pat]


async def test_appointment_deleted_events_come_from_history(
    office: Office, api: httpx.AsyncClient, new_patient: NewPatient, receiver: Receiver
) -> None:
    # Given an appointment the front desk deleted (its histappointment copy, action Deleted)
    pat = await new_patient()
    apt = (await api.post("/appointments", json={
        "PatNum": pat, "Op": 1, "AptDateTime": "2030-03-04 09:30:00"})).json()["AptNum"]
    async with httpx.AsyncClient(base_url=office.admin_url) as admin:
        deleted = await admin.post("/admin/doors/front-desk", json={
            "customer_key": FULL_KEY, "table": "appointment", "key": apt, "delete": True})
    assert deleted.status_code == 200, deleted.text

    # When AppointmentDeleted is subscribed to
    await _subscribe(api, receiver.url, "AppointmentDeleted", DateTimeStart=_ago(minutes=1))

    # Then the deleted appointment is sent (only that one: its Created copy is not)
    event = await receiver.next()
    assert event.headers["Event-Type"] == "WatchTable: AppointmentDeleted"
    assert [(r["AptNum"], r["PatNum"], r["AptDateTime"]) for r in event.rows] == [
        (apt, pat, "2030-03-04 09:30:00")]
