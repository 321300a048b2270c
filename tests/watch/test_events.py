"""Open Dental's API Subscriptions pushes: authenticated, answered at once, deduplicated, and
attributed like scanned rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from hub.opendental import Created, OpenDentalClient
from hub.registry import Registry
from hub.watch import Door, Source, Watch, handle_event
from hub.watch.receiver import EventReceiver
from hub.watch.run import receiving
from odsim.config import DEFAULT_CUSTOMER, DEFAULT_DEVELOPER, EventConfig
from odsim.server import running_simulator
from tests.trace.writer_steps import LedgerWriter, Sent
from tests.watch.conftest import Office, od_sql, office_time

OFFICE = "office-1"
CREATE = Sent(vendor="forms-co", key="event:1", contract="patient.create", message_id="m-1")
GUARD_S = 10.0  # a guard, not a timing
PATIENT_EVENT = {"Event-Type": "WatchTable: Patient", "Workstation": "FRONTDESK1"}


class Counts:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, office: str, disposition: str) -> None:
        self.seen.append((office, disposition))


@pytest.fixture
def counts() -> Counts:
    return Counts()


@pytest.fixture
async def endpoint(
    registry: Registry, counts: Counts
) -> AsyncIterator[tuple[EventReceiver, httpx.AsyncClient]]:
    receiver = EventReceiver(registry.offices, counts)
    async with receiving(receiver, "127.0.0.1", 0) as port, httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}"
    ) as client:
        yield receiver, client


async def test_a_push_without_the_offices_customer_key_is_refused(
    endpoint: tuple[EventReceiver, httpx.AsyncClient], counts: Counts
) -> None:
    receiver, client = endpoint
    row = [{"PatNum": 1, "DateTStamp": "2025-05-01 10:00:00"}]
    # When a caller posts with another key, or none, or to an office the hub does not know
    replies = [
        await client.post(f"/od-events/{OFFICE}", json=row,
                          headers={**PATIENT_EVENT, "Authorization": "WrongKey00000000"}),
        await client.post(f"/od-events/{OFFICE}", json=row, headers=PATIENT_EVENT),
        await client.post("/od-events/office-9", json=row,
                          headers={**PATIENT_EVENT, "Authorization": DEFAULT_CUSTOMER.key}),
    ]
    # Then each is 401, nothing is queued, and each is counted as unauthorized
    assert [reply.status_code for reply in replies] == [401, 401, 401]
    assert receiver.queue.empty()
    assert [d for _, d in counts.seen] == ["unauthorized"] * 3


async def test_a_push_is_queued_once_and_attributed_like_a_scanned_row(
    endpoint: tuple[EventReceiver, httpx.AsyncClient], counts: Counts, watch: Watch,
    writer: LedgerWriter,
) -> None:
    receiver, client = endpoint

    # Given a patient the hub created, and Open Dental pushing its row (twice: a resend)
    async def create(api: OpenDentalClient) -> Created:
        return await api.create_patient({"LName": "Quill", "FName": "Ada"})

    created = await writer.apply(CREATE, create)
    body = created.body
    headers = {**PATIENT_EVENT, "Authorization": DEFAULT_CUSTOMER.key}
    # When both pushes arrive
    first = await client.post(f"/od-events/{OFFICE}", json=[body], headers=headers)
    again = await client.post(f"/od-events/{OFFICE}", json=[body], headers=headers)
    # Then both are answered 200, and the row is queued once
    assert (first.status_code, again.status_code) == (200, 200)
    assert receiver.queue.qsize() == 1
    assert [d for _, d in counts.seen] == ["accepted", "duplicate"]
    # And the queued row, read again from the office's database, is the hub's change
    event = await asyncio.wait_for(receiver.queue.get(), 1)
    change = await handle_event(watch, event)
    assert change is not None
    assert (change.key, change.door, change.vendor, change.source) == (
        created.primary_key, Door.HUB, "forms-co", Source.EVENT
    )
    # And the next scan does not record it a second time
    scanned = (await watch.watchers[OFFICE].scan_once()).changes
    assert [c for c in scanned if c.key == created.primary_key] == []
    assert await handle_event(watch, event) is None


async def test_a_body_that_is_not_rows_is_refused(
    endpoint: tuple[EventReceiver, httpx.AsyncClient], counts: Counts
) -> None:
    receiver, client = endpoint
    headers = {**PATIENT_EVENT, "Authorization": DEFAULT_CUSTOMER.key}
    not_json = await client.post(f"/od-events/{OFFICE}", content=b"{", headers=headers)
    not_rows = await client.post(f"/od-events/{OFFICE}", json={"PatNum": 1}, headers=headers)
    no_key = await client.post(f"/od-events/{OFFICE}", json=[{"LName": "x"}], headers=headers)
    assert (not_json.status_code, not_rows.status_code, no_key.status_code) == (400, 400, 200)
    assert receiver.queue.empty()
    assert [d for _, d in counts.seen] == ["invalid"] * 3


async def test_a_patfield_push_is_attributed_though_patfields_are_not_scanned(
    endpoint: tuple[EventReceiver, httpx.AsyncClient], watch: Watch, office: Office,
) -> None:
    receiver, client = endpoint
    # Given a patient field the front desk set (patfield has no index on SecDateTEdit here, so
    # only Open Dental's push tells the watch)
    at = await office_time(office.database, -20)
    num = await od_sql(office.database, "INSERT INTO patfield (PatNum, FieldName, FieldValue,"
                       " SecDateTEdit) VALUES (1, 'Allergy alert', 'x', %s)", (at,))
    await od_sql(office.database, "INSERT INTO securitylog (PermType, UserNum, LogDateTime,"
                 " LogText, PatNum, FKey, LogSource) VALUES (80, 7, %s, 'Patient field edited.',"
                 " 1, %s, 0)", (at, num))
    # When Open Dental pushes it
    row = {"PatFieldNum": num, "PatNum": 1, "SecDateTEdit": at.strftime("%Y-%m-%d %H:%M:%S")}
    reply = await client.post(f"/od-events/{OFFICE}", json=[row], headers={
        "Event-Type": "WatchTable: PatField", "Authorization": DEFAULT_CUSTOMER.key,
    })
    assert reply.status_code == 200
    change = await handle_event(watch, await asyncio.wait_for(receiver.queue.get(), 1))
    # Then it is the front desk's
    assert change is not None
    assert (change.table.value, change.key, change.door, change.user_num) == (
        "patfield", num, Door.OPEN_DENTAL_USER, 7
    )


async def test_the_simulators_subscription_pushes_reach_the_watch_and_are_attributed(
    endpoint: tuple[EventReceiver, httpx.AsyncClient], watch: Watch, office: Office,
    writer: LedgerWriter,
) -> None:
    receiver, client = endpoint

    # Given a patient the hub created, and Open Dental's stand-in polling its database for a
    # Patient subscription that posts to the watch (a second simulator process on the office's
    # database, polling every 50 ms)
    async def create(api: OpenDentalClient) -> Created:
        return await api.create_patient({"LName": "Quill", "FName": "Ada"})

    created = await writer.apply(CREATE, create)
    events = EventConfig(poll_interval_s=0.05, rescan_s=0.2)
    config = office.sim.config.model_copy(update={"events": events})
    url = f"{str(client.base_url).rstrip('/')}/od-events/{OFFICE}"
    async with running_simulator(config, port=0) as polling, httpx.AsyncClient(
        base_url=polling.base_url,
        headers={"Authorization": f"ODFHIR {DEFAULT_DEVELOPER.key}/{DEFAULT_CUSTOMER.key}"},
    ) as api:
        reply = await api.post("/subscriptions", json={
            "EndPointUrl": url, "WatchTable": "Patient", "PollingSeconds": 5,
            "DateTimeStart": "2000-01-01 00:00:00",
        })
        assert reply.status_code == 201, reply.text
        # When Open Dental pushes the row
        event = await asyncio.wait_for(receiver.queue.get(), GUARD_S)
    # Then the watch attributes it to the hub's intent, as an event
    change = await handle_event(watch, event)
    assert change is not None
    assert (change.key, change.door, change.vendor, change.source) == (
        created.primary_key, Door.HUB, "forms-co", Source.EVENT
    )
