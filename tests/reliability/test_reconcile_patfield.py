"""patfield.set through the writer: applied end to end, and exactly once in effect when its
reply is lost (the set in doubt is checked with read-only SQL on ``patfield`` before anything
is sent again)."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub.ledger import MySqlLedger
from odsim.server import SimHandle
from tests.reliability.support import (
    EVERY_WRITE_DROPPED,
    anchor_patient,
    api_statuses,
    intent_of,
    sample,
)
from tests.writer.conftest import MakeWorld
from tests.writer.support import drain_outcomes, od_rows, running_worker, unique, vendor_client

FIELDS = "SELECT PatFieldNum, FieldValue FROM patfield WHERE PatNum = %s AND FieldName = %s"
RECONCILED = "hub_reconciliations_total"
EDITS = "SELECT COUNT(*) AS n FROM securitylog WHERE PermType = 80 AND PatNum = %s"


async def test_a_field_set_twice_keeps_one_row_with_the_last_value(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
) -> None:
    # Given a vendor's patient
    world = await make_world()
    ref = unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pat_num = await anchor_patient(world, vendor, hub_channel, ref)
        # When the vendor sets its referral source, then sets it to another value
        for value in ("Web form", "Friend"):
            payload = {"PatientRef": ref, "FieldName": "Referral Source", "FieldValue": value}
            intent = intent_of("patfield.set", world.office, unique("key"), payload)
            await vendor.publish(intent, office=world.office, contract="patfield.set")
        first, second = await drain_outcomes(hub_channel, vendor.name, 2)

    # Then both are applied to the one row (a read of the patient's fields, then POST 201 or
    # PUT 200), which holds the last value
    rows = await od_rows(world.od_database, FIELDS, (pat_num, "Referral Source"))
    assert [row["FieldValue"] for row in rows] == ["Friend"]
    assert {(e.status, e.od[0].table, e.od[0].primary_key) for e in (first, second)} == {
        (OutcomeStatus.APPLIED, "patfield", rows[0]["PatFieldNum"])}
    assert await api_statuses(ledger, first) == [200, 201]
    assert await api_statuses(ledger, second) == [200, 200]


async def test_a_set_whose_reply_was_lost_is_found_and_not_sent_again(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given a vendor's patient, then Open Dental committing each write and dropping the reply
    world = await make_world()
    ref = unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pat_num = await anchor_patient(world, vendor, hub_channel, ref)
        simulator.set_faults(EVERY_WRITE_DROPPED)
        # When the vendor sets a field
        payload = {"PatientRef": ref, "FieldName": "Intake Consent", "FieldValue": "1"}
        intent = intent_of("patfield.set", world.office, unique("key"), payload)
        await vendor.publish(intent, office=world.office, contract="patfield.set")
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the SQL check finds the value set: applied after one write, one row, one edit
    rows = await od_rows(world.od_database, FIELDS, (pat_num, "Intake Consent"))
    assert [row["FieldValue"] for row in rows] == ["1"]
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
    assert [(r.table, r.primary_key) for r in event.od] == [("patfield", rows[0]["PatFieldNum"])]
    assert await api_statuses(ledger, event) == [200, None]  # the read of its fields, the write
    (edits,) = await od_rows(world.od_database, EDITS, (pat_num,))
    assert edits["n"] == 1
    labels = {"office": world.office, "contract": "patfield.set", "verdict": "found"}
    assert sample(world, RECONCILED, labels) == 1
