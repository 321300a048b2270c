"""Updates in doubt, through the writer: a sparse PUT is safe to send again, and a Break that
had already landed (Open Dental then refuses to break an appointment no longer scheduled) is
applied, not rejected, with one break in Open Dental's audit trail."""

from __future__ import annotations

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
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    appointment_create,
    drain_outcomes,
    od_rows,
    running_worker,
    unique,
    vendor_client,
)

BREAKS = "SELECT COUNT(*) AS n FROM securitylog WHERE FKey = %s AND LogText LIKE %s"


async def test_a_break_that_landed_before_its_reply_was_lost_is_applied_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given a vendor's patient and appointment, then Open Dental committing the next write and
    # closing the connection without a reply
    world = await make_world()
    patient_ref, appointment_ref = unique("patient-ref"), unique("appointment-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await anchor_patient(world, vendor, hub_channel, patient_ref)
        booking = appointment_create(world.office, unique("key"), patient_ref=patient_ref)
        booking["payload"]["AppointmentRef"] = appointment_ref
        await vendor.publish(booking, office=world.office, contract="appointment.create")
        (booked,) = await drain_outcomes(hub_channel, vendor.name, 1)
        apt_num = booked.od[0].primary_key
        simulator.set_faults(FIRST_DROPPED)
        # When the vendor breaks the appointment
        payload = {"AppointmentRef": appointment_ref, "sendToUnscheduledList": "false"}
        breaking = intent_of("appointment.break", world.office, unique("key"), payload)
        await vendor.publish(breaking, office=world.office, contract="appointment.break")
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the resent Break's refusal shows the first one landed: applied, and broken once
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
    assert [(row.table, row.primary_key) for row in event.od] == [("appointment", apt_num)]
    assert await api_statuses(ledger, event) == [None, 400]
    (broken,) = await od_rows(world.od_database, BREAKS, (apt_num, "%broken%"))
    assert broken["n"] == 1
    labels = {"office": world.office, "contract": "appointment.break", "verdict": "safe_to_resend"}
    assert sample(world, "hub_reconciliations_total", labels) == 1


async def test_an_update_in_doubt_is_sent_again_and_applied(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given a vendor's patient, then Open Dental committing the next write and dropping the reply
    world = await make_world()
    ref = unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pat_num = await anchor_patient(world, vendor, hub_channel, ref)
        simulator.set_faults(FIRST_DROPPED)
        # When the vendor changes the patient's email
        payload = {"PatientRef": ref, "Email": "new@example.com"}
        update = intent_of("patient.update", world.office, unique("key"), payload)
        await vendor.publish(update, office=world.office, contract="patient.update")
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then it was sent again (a sparse PUT of the same values) and applied
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, None)
    assert await api_statuses(ledger, event) == [None, 200]
    (patient,) = await od_rows(
        world.od_database, "SELECT Email FROM patient WHERE PatNum = %s", (pat_num,)
    )
    assert patient["Email"] == "new@example.com"
