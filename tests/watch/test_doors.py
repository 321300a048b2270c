"""Each change of an Open Dental row attributed to the door it came through."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import CollectorRegistry

from contracts import OutcomeStatus
from hub.ledger import ApiCallRecord, Finish, Fresh, MySqlLedger
from hub.observability import HubMetrics, LabelBounds
from hub.opendental import Created, OpenDentalClient, Updated
from hub.opendental.reconcile_queries import OdTable
from hub.registry import Registry
from hub.settings import MySqlSettings
from hub.watch import Attribution, Door, Watch, opened_watch
from hub.watch.model import Source
from hub.watch.tables import WATCHED, read_row
from odsim.config import DEFAULT_CUSTOMER, DEFAULT_DEVELOPER
from tests.trace.conftest import OTHER_DEVELOPER
from tests.trace.writer_steps import LedgerWriter, Sent
from tests.watch.conftest import (
    FRONT_DESK_USER,
    OTHER_DEV_NAME,
    Office,
    direct,
    front_desk,
    hub_settings,
    hub_sql,
    log_change,
    new_patient,
    od_sql,
    office_time,
    other_api,
)

OFFICE = "office-1"
CREATE = Sent(vendor="forms-co", key="new-patient:1", contract="patient.create",
              message_id="msg-create")
UPDATE = Sent(vendor="crm-co", key="phone:1", contract="patient.update", message_id="msg-update")
BOOK = Sent(vendor="sched-co", key="first-visit:1", contract="appointment.create",
            message_id="msg-book")


async def _scan(watch: Watch) -> list[Attribution]:
    return list((await watch.watchers[OFFICE].scan_once()).changes)


def _of(changes: list[Attribution], key: int) -> list[Attribution]:
    return [change for change in changes if change.key == key]


async def _hub_key_post(office: Office, first_name: str) -> int:
    """A patient POSTed with the hub's key, outside any intent; its PatNum."""
    auth = f"ODFHIR {DEFAULT_DEVELOPER.key}/{DEFAULT_CUSTOMER.key}"
    async with httpx.AsyncClient(base_url=office.sim.base_url,
                                 headers={"Authorization": auth}) as api:
        reply = await api.post("/patients", json={"LName": "Quill", "FName": first_name})
    return int(reply.json()["PatNum"])


async def _lost_reply(
    ledger: MySqlLedger, office: Office, n: str, first_name: str
) -> tuple[int, int]:
    """An intent whose POST reached Open Dental but whose reply the hub never got: the ledger
    has the call without status or key. (intent id, PatNum)."""
    lost = Sent(vendor="forms-co", key=f"lost-reply:{n}", contract="patient.create",
                message_id=f"msg-lost-{n}")
    claimed = await ledger.claim(lost.claim(OFFICE))
    assert isinstance(claimed, Fresh)
    attempt = await ledger.begin_attempt(claimed.intent_id)
    assert attempt is not None
    started = datetime.now(UTC)
    pat_num = await _hub_key_post(office, first_name)
    await ledger.record_api_call(claimed.intent_id, ApiCallRecord(
        attempt=attempt, method="POST", path="/patients", status=None,
        latency_s=(datetime.now(UTC) - started).total_seconds(), od_primary_key=None,
        message="no reply", started_at=started,
    ))
    return claimed.intent_id, pat_num


async def _reconciled(ledger: MySqlLedger, intent_id: int, pat_num: int) -> None:
    """Reconciliation found the lost reply's row: the intent applied, its row recorded."""
    await ledger.finish(intent_id, Finish(
        status=OutcomeStatus.APPLIED, od_table="patient", od_primary_key=pat_num,
        outcome_json='{"status": "applied"}',
    ))


async def test_a_person_another_program_and_a_direct_write_each_get_their_door(
    watch: Watch, office: Office, metrics_registry: CollectorRegistry
) -> None:
    # Given a patient row the watch has seen once
    pat_num = await new_patient(office.database, await office_time(office.database, -100))
    [first] = _of(await _scan(watch), pat_num)
    assert first.first_seen and first.door is Door.UNEXPLAINED
    # When the front desk changes its phone, another developer its work phone, and a program
    # its email straight in the database, each seen by a scan of its own
    at = [await office_time(office.database, offset) for offset in (-80, -60, -40)]
    await front_desk(office.database, pat_num, "HmPhone", "555-0100", at[0])
    [person] = _of(await _scan(watch), pat_num)
    await other_api(office.database, pat_num, "WkPhone", "555-0101", at[1])
    [program] = _of(await _scan(watch), pat_num)
    await direct(office.database, pat_num, "Email", "x@example.com", at[2])
    [rogue] = _of(await _scan(watch), pat_num)
    # Then each change has its door, who stands behind it, and only its column's name
    assert (person.door, person.user_num, person.columns) == (
        Door.OPEN_DENTAL_USER, FRONT_DESK_USER, ("HmPhone",)
    )
    assert (program.door, program.dev_name, program.columns) == (
        Door.OTHER_API, OTHER_DEV_NAME, ("WkPhone",)
    )
    assert (rogue.door, rogue.columns, rogue.stale_hash) == (Door.UNEXPLAINED, ("Email",), False)
    assert not any(c.first_seen for c in (person, program, rogue))
    # And the hub database keeps them, filtered by door, and the metric counts them
    since = datetime.now(UTC) - timedelta(days=1)
    kept = await watch.store.changes(OFFICE, since)
    assert [(c.key, c.door) for c in kept if c.key == pat_num] == [
        (pat_num, Door.UNEXPLAINED), (pat_num, Door.OPEN_DENTAL_USER),
        (pat_num, Door.OTHER_API), (pat_num, Door.UNEXPLAINED),
    ]
    unexplained = await watch.store.changes(OFFICE, since, Door.UNEXPLAINED)
    assert [c.columns for c in unexplained if not c.first_seen] == [("Email",)]
    labels = {"office": OFFICE, "door": "other_api"}
    assert metrics_registry.get_sample_value("hub_changes_total", labels) == 1.0


async def test_the_hubs_writes_name_their_vendor_and_intent(
    watch: Watch, writer: LedgerWriter, ledger: MySqlLedger
) -> None:
    # Given a patient one vendor created through the hub, seen by a scan
    async def create(client: OpenDentalClient) -> Created:
        return await client.create_patient({"LName": "Quill", "FName": "Ada"})

    created = await writer.apply(CREATE, create)
    [made] = _of(await _scan(watch), created.primary_key)

    # When another vendor changes the phone through the hub (within the same second, maybe)
    async def update(client: OpenDentalClient) -> Updated:
        return await client.update_patient(created.primary_key, {"HmPhone": "555-0142"})

    await writer.apply(UPDATE, update)
    [changed] = _of(await _scan(watch), created.primary_key)
    # Then both changes are the hub's, each with the vendor and the intent behind it
    create_story = await ledger.story(CREATE.vendor, CREATE.key)
    update_story = await ledger.story(UPDATE.vendor, UPDATE.key)
    assert create_story is not None and update_story is not None
    assert (made.door, made.vendor, made.intent_id, made.first_seen) == (
        Door.HUB, "forms-co", create_story.intent.id, True
    )
    assert (changed.door, changed.vendor, changed.intent_id) == (
        Door.HUB, "crm-co", update_story.intent.id
    )
    assert "HmPhone" in changed.columns and "LName" not in changed.columns


async def test_a_new_patients_first_visit_set_by_booking_is_the_bookings_intent(
    watch: Watch, writer: LedgerWriter, ledger: MySqlLedger
) -> None:
    # Given a patient one vendor created through the hub, seen by a scan
    async def create(client: OpenDentalClient) -> Created:
        return await client.create_patient({"LName": "Quill", "FName": "Ada"})

    created = await writer.apply(CREATE, create)
    _of(await _scan(watch), created.primary_key)

    # When another vendor books the patient's first visit, which also sets the patient's
    # DateFirstVisit with no patient log (only the appointment's names the patient)
    async def book(client: OpenDentalClient) -> Created:
        return await client.create_appointment({
            "PatNum": created.primary_key, "Op": 1, "AptDateTime": "2026-12-10 09:00:00",
            "IsNewPatient": "true",
        })

    await writer.apply(BOOK, book)
    [changed] = [c for c in _of(await _scan(watch), created.primary_key)
                 if c.table is OdTable.PATIENT]
    # Then the patient's change is the booking's, with its vendor and intent, not unexplained
    story = await ledger.story(BOOK.vendor, BOOK.key)
    assert story is not None
    assert (changed.door, changed.vendor, changed.intent_id, changed.columns) == (
        Door.HUB, "sched-co", story.intent.id, ("DateFirstVisit",)
    )


async def test_a_first_visit_set_directly_is_unexplained(watch: Watch, office: Office) -> None:
    # Given a patient the watch has seen
    pat_num = await new_patient(office.database, await office_time(office.database, -100))
    await _scan(watch)
    # When a program sets its DateFirstVisit directly, with no appointment booked
    await direct(office.database, pat_num, "DateFirstVisit", "2026-12-10",
                 await office_time(office.database, -50))
    [change] = _of(await _scan(watch), pat_num)
    # Then no appointment's log explains it
    assert (change.door, change.columns) == (Door.UNEXPLAINED, ("DateFirstVisit",))


async def test_another_developers_api_call_is_other_api_with_its_dev_name(
    watch: Watch, writer: LedgerWriter, other_program: httpx.AsyncClient
) -> None:
    # Given a patient the hub created
    async def create(client: OpenDentalClient) -> Created:
        return await client.create_patient({"LName": "Quill", "FName": "Ada"})

    created = await writer.apply(CREATE, create)
    await _scan(watch)
    # When the office's other program changes it through Open Dental's API with its own key
    reply = await other_program.put(f"/patients/{created.primary_key}", json={"WkPhone": "1"})
    assert reply.status_code == 200, reply.text
    [change] = _of(await _scan(watch), created.primary_key)
    # Then it is that developer's, named as Open Dental's log names it, not the hub's
    assert (change.door, change.dev_name, change.vendor) == (
        Door.OTHER_API, OTHER_DEVELOPER.name, None
    )


async def test_a_stale_security_hash_is_unexplained_even_with_a_log(
    watch: Watch, office: Office
) -> None:
    # Given a patient whose SecurityHash Open Dental keeps, seen by the watch
    pat_num = await new_patient(office.database, await office_time(office.database, -100))
    await od_sql(office.database, "UPDATE patient SET SecurityHash = 'h1', DateTStamp ="
                 " DateTStamp WHERE PatNum = %s", (pat_num,))
    await _scan(watch)
    # When a program sets its status straight in the database, leaving the hash, and writes a
    # log row that looks like the front desk's
    at = await office_time(office.database, -50)
    await front_desk(office.database, pat_num, "PatStatus", 4, at)
    [hidden] = _of(await _scan(watch), pat_num)
    # Then the change is unexplained, flagged as a stale hash
    assert (hidden.door, hidden.stale_hash, hidden.columns) == (
        Door.UNEXPLAINED, True, ("PatStatus",)
    )
    # And when Open Dental itself changes a hashed column, it rehashes: that is a person's
    at = await office_time(office.database, -30)
    await od_sql(office.database, "UPDATE patient SET Birthdate = '1990-01-02', SecurityHash ="
                 " 'h2', DateTStamp = %s WHERE PatNum = %s", (at, pat_num))
    await log_change(office.database, fkey=pat_num, source=0, user_num=FRONT_DESK_USER,
                     text="Patient edited.", at=at)
    [rehashed] = _of(await _scan(watch), pat_num)
    assert (rehashed.door, rehashed.stale_hash) == (Door.OPEN_DENTAL_USER, False)
    assert set(rehashed.columns) == {"Birthdate", "SecurityHash"}


async def test_a_create_whose_reply_was_lost_is_still_the_hubs_intent(
    watch: Watch, ledger: MySqlLedger, office: Office
) -> None:
    # Given an intent whose POST reached Open Dental but whose reply the hub never got (the
    # ledger has the call without status or key), found again by reconciliation
    intent_id, pat_num = await _lost_reply(ledger, office, "1", "Ada")
    await _reconciled(ledger, intent_id, pat_num)
    # When the watch sees the new row
    [change] = _of(await _scan(watch), pat_num)
    # Then it is the hub's, and that intent's
    assert (change.door, change.vendor, change.intent_id, change.dev_name) == (
        Door.HUB, "forms-co", intent_id, DEFAULT_DEVELOPER.name
    )


async def test_a_change_seen_before_the_ledger_knew_its_intent_is_named_and_told_once_it_does(
    watch: Watch, ledger: MySqlLedger, office: Office
) -> None:
    # Given an intent whose POST reached Open Dental but whose reply was lost, not yet
    # reconciled: the ledger has the call, but not the row
    intent_id, pat_num = await _lost_reply(ledger, office, "2", "Bea")
    told: list[Attribution] = []

    async def tell(office_id: str, db: object, changes: Sequence[Attribution]) -> None:
        told.extend(changes)

    watcher = watch.watchers[OFFICE]
    watcher.tell = tell
    # When the watch sees the new row
    first = await watcher.scan_once()
    await watcher.tell_changes(first.to_tell)
    [change] = _of(list(first.changes), pat_num)
    # Then it is the hub's by the DevName, its intent pending, and nobody is told of it yet
    assert (change.door, change.intent_id, change.intent_pending) == (Door.HUB, None, True)
    assert _of(told, pat_num) == []
    # When reconciliation ties the intent to its row, and the watch passes again
    await _reconciled(ledger, intent_id, pat_num)
    second = await watcher.scan_once()
    await watcher.tell_changes(second.to_tell)
    # Then the change names its intent, in the hub database too, and is told once, with it
    named = (Door.HUB, "forms-co", intent_id, False)
    [settled] = _of(list(second.settled), pat_num)
    assert (settled.door, settled.vendor, settled.intent_id, settled.intent_pending) == named
    [stored] = await watch.store.row_changes(OFFICE, OdTable.PATIENT, pat_num)
    assert (stored.door, stored.vendor, stored.intent_id, stored.intent_pending) == named
    assert [(c.vendor, c.intent_id) for c in _of(told, pat_num)] == [named[1:3]]
    # And a third pass asks no more
    assert _of(list((await watcher.scan_once()).settled), pat_num) == []


async def test_a_change_whose_intent_never_comes_is_told_without_it_after_the_wait(
    ledger_db: MySqlSettings, registry: Registry, watch: Watch, office: Office
) -> None:
    # Given a row written with the hub's key by no intent the ledger has (the key used outside
    # the hub), seen by the watch
    pat_num = await _hub_key_post(office, "Cy")
    [change] = _of(await _scan(watch), pat_num)
    assert change.intent_pending
    # When a watch that waits for intents no longer than a moment passes again
    metrics = HubMetrics(CollectorRegistry(), LabelBounds.from_registry(registry))
    async with opened_watch(hub_settings(ledger_db, intent_wait_s=0.001), registry,
                            metrics) as impatient:
        result = await impatient.watchers[OFFICE].scan_once()
    # Then the change is settled with no intent, to be told
    [settled] = _of(list(result.settled), pat_num)
    assert (settled.door, settled.intent_id, settled.intent_pending) == (Door.HUB, None, False)


async def test_a_change_waiting_long_for_its_intent_is_asked_about_less_often(
    ledger_db: MySqlSettings, watch: Watch, office: Office
) -> None:
    # Given a change given to the hub's key with no intent on record, waiting for 1,000 s
    pat_num = await _hub_key_post(office, "Di")
    [change] = _of(await _scan(watch), pat_num)
    assert change.intent_pending

    async def asked_ago(seconds: int) -> list[int]:
        await hub_sql(ledger_db, "UPDATE watch_changes SET recorded_at = UTC_TIMESTAMP(6) -"
                      " INTERVAL 1000 SECOND, checked_at = UTC_TIMESTAMP(6) - INTERVAL %s SECOND"
                      " WHERE od_table = 'patient' AND od_key = %s", (seconds, pat_num))
        return [one.change.key for one in await watch.store.pending(OFFICE, 100)]

    # Then, last asked 10 s ago, it is not asked this pass; 200 s ago (a tenth of its age past),
    # it is
    assert pat_num not in await asked_ago(10)
    assert pat_num in await asked_ago(200)


async def test_a_log_row_explains_one_change_only(watch: Watch, office: Office) -> None:
    # Given a patient the front desk changed, seen by the watch
    pat_num = await new_patient(office.database, await office_time(office.database, -100))
    await _scan(watch)
    await front_desk(office.database, pat_num, "HmPhone", "555-0100",
                     await office_time(office.database, -50))
    [person] = _of(await _scan(watch), pat_num)
    # When a program writes the row directly one second later, inside the log's window
    await direct(office.database, pat_num, "Email", "x@example.com",
                 await office_time(office.database, -49))
    [rogue] = _of(await _scan(watch), pat_num)
    # Then the front desk's log explains its own change only: the write is unexplained
    assert person.door is Door.OPEN_DENTAL_USER
    assert (rogue.door, rogue.securitylog_num) == (Door.UNEXPLAINED, None)


@pytest.mark.parametrize("gap_s", [1, 0], ids=["a-second-later", "in-the-same-second"])
async def test_a_change_landing_between_a_rows_read_and_its_logs_read_is_not_taken_for_it(
    watch: Watch, office: Office, gap_s: int
) -> None:
    # Given a patient the watch has seen, then changed by another developer
    pat_num = await new_patient(office.database, await office_time(office.database, -100))
    await _scan(watch)
    first = await office_time(office.database, -60)
    await other_api(office.database, pat_num, "WkPhone", "555-0101", first)
    watcher = watch.watchers[OFFICE]
    table = WATCHED[OdTable.PATIENT]
    row = await read_row(watcher.db, table, pat_num)
    assert row is not None
    # And a second change, with its log, landing after a scan read the row but before it read
    # the row's logs (the scan's page is recorded here by hand, as the scan would); stamped a
    # second later, or in the same second (no log is then later than the row's stamp)
    second = first + timedelta(seconds=gap_s)
    await other_api(office.database, pat_num, "HmPhone", "555-0102", second)
    early = await watcher._record(table, [row], Source.SCAN)
    # When the watch scans again
    changes = _of(await _scan(watch), pat_num)
    # Then the stale read was left alone, and the next saw both changes as one, explained
    assert early == []
    assert [(c.door, set(c.columns)) for c in changes] == [
        (Door.OTHER_API, {"WkPhone", "HmPhone"})
    ]


async def test_the_simulators_three_other_doors_are_told_apart(
    watch: Watch, writer: LedgerWriter, office: Office
) -> None:
    # Given a patient the hub created, seen by the watch
    async def create(client: OpenDentalClient) -> Created:
        return await client.create_patient({"LName": "Quill", "FName": "Ada"})

    pat_num = (await writer.apply(CREATE, create)).primary_key
    await _scan(watch)
    admin = office.sim.base_url.removesuffix("/api/v1")
    seen: list[Attribution] = []
    async with httpx.AsyncClient(base_url=admin) as client:
        for door, column, value in [("front-desk", "HmPhone", "555-0100"),
                                    ("other-api", "WkPhone", "555-0101"),
                                    ("direct-db", "PatStatus", "Deceased")]:
            # When each of the simulator's doors changes the patient, one after the other
            reply = await client.post(f"/admin/doors/{door}", json={
                "customer_key": DEFAULT_CUSTOMER.key, "table": "patient", "key": pat_num,
                "set": {column: value},
            })
            assert reply.status_code == 200, reply.text
            seen += _of(await _scan(watch), pat_num)
    # Then each change has its door, and the direct write's stale hash is flagged
    assert [(c.door, c.stale_hash) for c in seen] == [
        (Door.OPEN_DENTAL_USER, False), (Door.OTHER_API, False), (Door.UNEXPLAINED, True),
    ]
    assert seen[1].dev_name not in (None, DEFAULT_DEVELOPER.name)
    assert "PatStatus" in seen[2].columns and "SecurityHash" not in seen[2].columns
