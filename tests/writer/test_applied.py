"""Intents that Open Dental takes: one row each, an applied outcome with its ids, in order."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel

from contracts import OdRow, OutcomeStatus
from hub.ledger import MySqlLedger
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    appointment_create,
    drain_outcomes,
    letters,
    od_rows,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)


async def test_a_create_makes_one_row_and_an_applied_outcome_with_its_ids(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given a vendor with an agreement for one office, and the writer running
    world = await make_world()
    last, key = letters(), unique("key")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When the vendor publishes a patient.create
        await vendor.publish(patient_create(world.office, key, last=last), office=world.office)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then Open Dental has exactly one such patient, and the outcome names its PatNum
    rows = await od_rows(world.od_database, "SELECT PatNum FROM patient WHERE LName = %s", (last,))
    assert len(rows) == 1
    assert (event.status, event.reason, event.idempotency_key) == (OutcomeStatus.APPLIED, None, key)
    assert (event.vendor, event.office_id, event.contract) == (
        vendor.name, world.office, "patient.create"
    )
    assert event.od == [OdRow(table="patient", primary_key=rows[0]["PatNum"])]
    assert event.duplicate is False
    # And the ledger holds the intent applied, with its one API call
    told = await ledger.story(vendor.name, key)
    assert told is not None
    assert (told.intent.status, told.intent.od_primary_key) == ("applied", rows[0]["PatNum"])
    assert [(call.method, call.status) for call in told.api_calls] == [("POST", 201)]


async def test_an_appointment_finds_the_patient_its_vendor_just_created_by_reference(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given a vendor that creates a patient with its own reference
    world = await make_world()
    last, ref = letters(), unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(
            patient_create(world.office, unique("key"), last=last, ref=ref), office=world.office
        )
        # When it publishes, right behind it, an appointment naming the patient by that reference
        await vendor.publish(
            appointment_create(world.office, unique("key"), patient_ref=ref),
            office=world.office, contract="appointment.create",
        )
        patient, appointment = await drain_outcomes(hub_channel, vendor.name, 2)

    # Then both are applied in order, and the appointment belongs to the new patient
    assert [patient.status, appointment.status] == [OutcomeStatus.APPLIED] * 2
    pat_num, apt_num = patient.od[0].primary_key, appointment.od[0].primary_key
    rows = await od_rows(
        world.od_database, "SELECT PatNum FROM appointment WHERE AptNum = %s", (apt_num,)
    )
    assert rows == [{"PatNum": pat_num}]


async def test_intents_of_one_office_are_applied_in_the_order_they_were_published(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given eight patient.create intents published one after another for one office
    world = await make_world()
    surnames = [letters() for _ in range(8)]
    keys = [unique("key") for _ in surnames]
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        for key, surname in zip(keys, surnames, strict=True):
            intent = patient_create(world.office, key, last=surname)
            await vendor.publish(intent, office=world.office)
        # When the writer has decided all of them
        events = await drain_outcomes(hub_channel, vendor.name, len(surnames))

    # Then the outcomes came in publish order and Open Dental's keys grow in that order
    assert [event.idempotency_key for event in events] == keys
    assert all(event.status is OutcomeStatus.APPLIED for event in events)
    rows = await od_rows(
        world.od_database,
        f"SELECT LName FROM patient WHERE LName IN ({', '.join(['%s'] * len(surnames))})"
        " ORDER BY PatNum",
        tuple(surnames),
    )
    assert [row["LName"] for row in rows] == surnames
    pat_nums = [event.od[0].primary_key for event in events]
    assert pat_nums == sorted(pat_nums)
