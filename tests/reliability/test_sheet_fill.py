"""sheet.fill through the writer: every one of its calls left in doubt once (Open Dental commits
each write and drops the reply), each reconciled and resumed; a fill whose calls fail more often
in all than the retry budget allows, applied because each recovery point is progress; and a fill
with a name its sheet lacks, refused before any field is set."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeReason, OutcomeStatus
from hub.ledger import MySqlLedger
from odsim.faults import FaultConfig, InjectedFault
from odsim.server import SimHandle
from odsim.sheet_defs import REGISTRATION_FORM
from tests.reliability.support import EVERY_WRITE_DROPPED, anchor_patient, sample
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    _intent,
    drain_outcomes,
    od_rows,
    running_worker,
    unique,
    vendor_client,
)

FIELDS = {
    "preferredName": "Annie", "emergencyContactName": "Sam Doe",
    "emergencyContactPhone": "5035550100", "employer": "Acme", "occupation": "Welder",
    "referredBy": "A friend", "reasonForVisit": "Cleaning", "lastDentalVisit": "2024",
    "pharmacy": "Main St", "consentToText": "X", "consentToEmail": "X",
    "officeUseNote": "via hub",
}


async def _form(database: str) -> int:
    (row,) = await od_rows(database, "SELECT SheetDefNum FROM sheetdef WHERE Description = %s",
                           (REGISTRATION_FORM,))
    return int(row["SheetDefNum"])


async def test_a_fill_whose_every_reply_is_lost_makes_one_sheet_with_each_field_set_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given a patient the forms vendor created, and then Open Dental committing every write and
    # closing the connection without a reply
    world = await make_world()
    ref = unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pat_num = await anchor_patient(world, vendor, hub_channel, ref)
        form = await _form(world.od_database)
        simulator.set_faults(EVERY_WRITE_DROPPED)
        try:
            # When the vendor fills the 12-field form for it
            payload = {"PatientRef": ref, "SheetDefNum": form, "fields": FIELDS}
            await vendor.publish(_intent("sheet.fill", world.office, unique("key"), payload),
                                 office=world.office, contract="sheet.fill")
            (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
        finally:
            simulator.set_faults(FaultConfig())

    # Then it is applied with the one sheet Open Dental holds for the patient
    assert event.status is OutcomeStatus.APPLIED, event.message
    sheets = await od_rows(world.od_database, "SELECT SheetNum FROM sheet WHERE PatNum = %s",
                           (pat_num,))
    assert [(row.table, row.primary_key) for row in event.od] == [("sheet", sheets[0]["SheetNum"])]
    assert len(sheets) == 1
    # And each field holds its value, set by exactly one API write (Open Dental's audit trail)
    fields = await od_rows(
        world.od_database,
        "SELECT f.FieldName, f.FieldValue, COUNT(s.SecurityLogNum) AS writes FROM sheetfield f"
        " LEFT JOIN securitylog s ON s.FKey = f.SheetFieldNum AND s.PermType = 42"
        " AND s.LogText LIKE 'SheetField updated%%'"
        " WHERE f.SheetNum = %s GROUP BY f.SheetFieldNum, f.FieldName, f.FieldValue",
        (sheets[0]["SheetNum"],))
    by_name = {row["FieldName"]: (row["FieldValue"], row["writes"]) for row in fields}
    assert {name: by_name[name] for name in FIELDS} == {n: (v, 1) for n, v in FIELDS.items()}
    assert sum(writes for _, writes in by_name.values()) == len(FIELDS)
    # And every call was reconciled as landed: the POST and each PUT
    labels = {"office": world.office, "contract": "sheet.fill", "verdict": "found"}
    assert sample(world, "hub_reconciliations_total", labels) == 1 + len(FIELDS)


async def test_a_fill_failing_more_often_than_its_budget_but_progressing_is_applied(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, simulator: SimHandle,
) -> None:
    # Given a writer that gives an intent 3 counted attempts, and Open Dental answering a third
    # of the writes with a 500 that did not land (seed 4: 9 of the writes, never 3 in a row)
    world = await make_world(writer=FAST_WRITER.model_copy(update={"max_attempts": 3}))
    ref = unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await anchor_patient(world, vendor, hub_channel, ref)
        form = await _form(world.od_database)
        simulator.set_faults(FaultConfig(seed=4, rate_500=0.34, writes_only=True))
        try:
            # When the vendor fills the 12-field form: 13 writes
            payload = {"PatientRef": ref, "SheetDefNum": form, "fields": FIELDS}
            await vendor.publish(_intent("sheet.fill", world.office, unique("key"), payload),
                                 office=world.office, contract="sheet.fill")
            (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
            failed = simulator.faults.injected.get(InjectedFault.HTTP_500, 0)
        finally:
            simulator.set_faults(FaultConfig())

    # Then more writes failed than the budget's 3 attempts, and the fill was still applied:
    # between two failures it recorded a point, so no stretch without progress used it up
    assert failed >= 3
    assert event.status is OutcomeStatus.APPLIED, event.message


async def test_a_fill_naming_a_field_the_sheet_lacks_sets_no_field(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel,
) -> None:
    # Given a patient the vendor created
    world = await make_world()
    ref = unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pat_num = await anchor_patient(world, vendor, hub_channel, ref)
        form = await _form(world.od_database)
        # When it fills the form with one name the form does not have
        payload = {"PatientRef": ref, "SheetDefNum": form,
                   "fields": {"preferredName": "Annie", "shoeSize": "9"}}
        await vendor.publish(_intent("sheet.fill", world.office, unique("key"), payload),
                             office=world.office, contract="sheet.fill")
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then it is rejected naming the field, and no field of the sheet was set
    assert (event.status, event.reason) == (OutcomeStatus.REJECTED, OutcomeReason.OD_REJECTED)
    assert "payload.fields.shoeSize" in (event.message or "")
    set_fields = await od_rows(
        world.od_database,
        "SELECT f.SheetFieldNum FROM sheetfield f JOIN sheet s ON s.SheetNum = f.SheetNum"
        " WHERE s.PatNum = %s AND f.FieldType <> 2 AND f.FieldValue <> ''", (pat_num,))
    assert set_fields == []
