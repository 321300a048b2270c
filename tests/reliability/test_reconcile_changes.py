"""appointment.update, appointment.note and payment.refund through the writer: each applied end
to end, and each in doubt (Open Dental commits, the reply is lost) settled by reconciliation
without a second send: a note appended once, a payment refunded once."""

from __future__ import annotations

from typing import Any

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub.ledger import MySqlLedger
from odsim.server import SimHandle
from tests.reliability.support import (
    FIRST_DROPPED,
    anchor_patient,
    api_statuses,
    intent_of,
    sample,
)
from tests.writer.conftest import MakeWorld, World
from tests.writer.support import (
    VendorClient,
    appointment_create,
    drain_outcomes,
    od_rows,
    running_worker,
    unique,
    vendor_client,
)

NOTE = "Reminder sent by text."
MOVED = "2031-05-08 15:30:00"


async def _booked(
    world: World, vendor: VendorClient, channel: AbstractRobustChannel, apt_ref: str
) -> int:
    patient_ref = unique("patient-ref")
    await anchor_patient(world, vendor, channel, patient_ref)
    booking = appointment_create(world.office, unique("key"), patient_ref=patient_ref)
    booking["payload"]["AppointmentRef"] = apt_ref
    await vendor.publish(booking, office=world.office, contract="appointment.create")
    (booked,) = await drain_outcomes(channel, vendor.name, 1)
    assert booked.status is OutcomeStatus.APPLIED, booked.message
    return booked.od[0].primary_key


async def _paid(
    world: World, vendor: VendorClient, channel: AbstractRobustChannel, ref: str | None = None
) -> int:
    pat_num = await anchor_patient(world, vendor, channel, unique("patient-ref"))
    payload: dict[str, Any] = {"PatNum": pat_num, "PayAmt": 60.0}
    if ref is not None:
        payload["PaymentRef"] = ref
    paying = intent_of("payment.create", world.office, unique("key"), payload)
    await vendor.publish(paying, office=world.office, contract="payment.create")
    (paid,) = await drain_outcomes(channel, vendor.name, 1)
    assert paid.status is OutcomeStatus.APPLIED, paid.message
    return paid.od[0].primary_key


async def _publish(
    world: World, vendor: VendorClient, contract: str, payload: dict[str, Any]
) -> None:
    intent = intent_of(contract, world.office, unique("key"), payload)
    await vendor.publish(intent, office=world.office, contract=contract)


async def test_a_reschedule_a_note_and_a_refund_are_applied(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel,
) -> None:
    # Given a vendor's appointment and payment, each with the vendor's own reference
    world = await make_world()
    apt_ref, pay_ref = unique("appointment-ref"), unique("payment-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        apt_num = await _booked(world, vendor, hub_channel, apt_ref)
        await _paid(world, vendor, hub_channel, pay_ref)
        # When it reschedules the appointment, appends two notes to it and refunds the payment,
        # all by its references but one note
        await _publish(world, vendor, "appointment.update",
                       {"AppointmentRef": apt_ref, "AptDateTime": MOVED, "Op": 2})
        await _publish(world, vendor, "appointment.note", {"AppointmentRef": apt_ref, "Note": NOTE})
        await _publish(world, vendor, "appointment.note", {"AptNum": apt_num, "Note": "Confirmed."})
        await _publish(world, vendor, "payment.refund", {"PaymentRef": pay_ref})
        events = await drain_outcomes(hub_channel, vendor.name, 4)

    # Then all four are applied, in order, each naming its row
    assert [e.status for e in events] == [OutcomeStatus.APPLIED] * 4, [e.message for e in events]
    assert [(e.od[0].table, e.od[0].primary_key) for e in events[:3]] == [
        ("appointment", apt_num)] * 3
    refund_num = events[3].od[0].primary_key
    # And Open Dental holds the new time and operatory, both lines, and the offsetting payment
    (row,) = await od_rows(world.od_database,
                           "SELECT AptDateTime, Op, Note FROM appointment WHERE AptNum = %s",
                           (apt_num,))
    assert (str(row["AptDateTime"]), row["Op"]) == (MOVED, 2)
    assert row["Note"].split("\r\n")[-2:] == [NOTE, "Confirmed."]
    (refund,) = await od_rows(world.od_database,
                              "SELECT PayAmt FROM payment WHERE PayNum = %s", (refund_num,))
    assert refund["PayAmt"] == -60.0


async def test_a_note_that_landed_before_its_reply_was_lost_is_appended_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given a vendor's appointment, then Open Dental committing the next write and dropping
    # the connection before its reply
    world = await make_world()
    apt_ref = unique("appointment-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        apt_num = await _booked(world, vendor, hub_channel, apt_ref)
        simulator.set_faults(FIRST_DROPPED)
        # When the vendor appends a note
        await _publish(world, vendor, "appointment.note", {"AppointmentRef": apt_ref, "Note": NOTE})
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then reconciliation found it landed: applied, sent once, the text there once
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
    assert await api_statuses(ledger, event) == [None]
    (row,) = await od_rows(world.od_database, "SELECT Note FROM appointment WHERE AptNum = %s",
                           (apt_num,))
    assert row["Note"].count(NOTE) == 1
    labels = {"office": world.office, "contract": "appointment.note", "verdict": "found"}
    assert sample(world, "hub_reconciliations_total", labels) == 1


async def test_a_reschedule_that_landed_before_its_reply_was_lost_is_not_sent_again(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given a vendor's appointment, then a dropped reply to the next write
    world = await make_world()
    apt_ref = unique("appointment-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        apt_num = await _booked(world, vendor, hub_channel, apt_ref)
        simulator.set_faults(FIRST_DROPPED)
        # When the vendor reschedules it
        await _publish(world, vendor, "appointment.update",
                       {"AppointmentRef": apt_ref, "AptDateTime": MOVED})
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the row read back holds the new time: applied, one PUT
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
    assert await api_statuses(ledger, event) == [None]
    (row,) = await od_rows(world.od_database,
                           "SELECT AptDateTime FROM appointment WHERE AptNum = %s", (apt_num,))
    assert str(row["AptDateTime"]) == MOVED


async def test_a_refund_that_landed_before_its_reply_was_lost_is_made_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given a payment, then a dropped reply to the next write
    world = await make_world()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pay_num = await _paid(world, vendor, hub_channel)
        simulator.set_faults(FIRST_DROPPED)
        # When the vendor refunds it
        await _publish(world, vendor, "payment.refund", {"PayNum": pay_num})
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the refund is found: applied with its row, one refund in Open Dental
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
    assert await api_statuses(ledger, event) == [None]
    refunds = await od_rows(
        world.od_database,
        "SELECT p.PayNum FROM payment p JOIN paysplit r ON r.PayNum = p.PayNum"
        " JOIN paysplit o ON o.SplitNum = r.FSplitNum WHERE o.PayNum = %s", (pay_num,))
    assert [r["PayNum"] for r in refunds] == [event.od[0].primary_key]
