"""Reconciliation through the writer, for every create contract: a create whose reply was lost is
found (applied, no second request), not found (sent again, once), or ambiguous (dead, with its
candidates, for a person). The doubt comes from the simulator's own faults: a write committed
then its connection dropped, or a 500 before anything was written."""

from __future__ import annotations

import json

import pytest
from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeReason, OutcomeStatus
from hub import names
from hub.ledger import MySqlLedger
from hub.opendental import OpenDentalClient, WireBody
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.reconcile.scenarios import SCENARIO_IDS, SCENARIOS, Scenario
from tests.reliability.proxy import forwarding, free_port
from tests.reliability.support import (
    EVERY_WRITE_DROPPED,
    FIRST_500,
    ROWS_OF,
    anchor_patient,
    api_statuses,
    rows_args,
    sample,
    scenario_intent,
    twin_body,
)
from tests.support.mariadb import ROOT, read_only_account, root_sql
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    dead_letter_tap,
    drain,
    drain_outcomes,
    eventually,
    letters,
    od_rows,
    patient_create,
    patients_named,
    running_worker,
    unique,
    vendor_client,
)

RECONCILED = "hub_reconciliations_total"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
async def test_a_create_whose_reply_was_lost_is_found_and_not_sent_again(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle, scenario: Scenario,
) -> None:
    # Given a patient the vendor created through the hub, and then Open Dental committing each
    # write and closing the connection without a reply
    world = await make_world()
    ref = unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pat_num = await anchor_patient(world, vendor, hub_channel, ref)
        simulator.set_faults(EVERY_WRITE_DROPPED)
        # When the vendor's create meets it
        intent = scenario_intent(scenario, world.office, ref)
        await vendor.publish(intent, office=world.office, contract=scenario.contract)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the row the lost reply made is found and recorded as applied, after one request
    rows = await od_rows(world.od_database, ROWS_OF[scenario.table], rows_args(scenario, pat_num))
    assert len(rows) == 1
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
    assert [(row.table, row.primary_key) for row in event.od] == [(scenario.table, rows[0]["pk"])]
    assert await api_statuses(ledger, event) == [None]
    labels = {"office": world.office, "contract": scenario.contract, "verdict": "found"}
    assert sample(world, RECONCILED, labels) == 1


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
async def test_a_create_that_failed_without_landing_is_sent_again_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle, scenario: Scenario,
) -> None:
    # Given a vendor's patient, and Open Dental answering the next write 500 (writing nothing)
    world = await make_world()
    ref = unique("patient-ref")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pat_num = await anchor_patient(world, vendor, hub_channel, ref)
        simulator.set_faults(FIRST_500)
        # When the vendor's create meets it
        intent = scenario_intent(scenario, world.office, ref)
        await vendor.publish(intent, office=world.office, contract=scenario.contract)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then reconciliation found nothing, so it was sent again, and Open Dental has it once
    rows = await od_rows(world.od_database, ROWS_OF[scenario.table], rows_args(scenario, pat_num))
    assert len(rows) == 1
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, None)
    assert [row.primary_key for row in event.od] == [rows[0]["pk"]]
    assert await api_statuses(ledger, event) == [500, 201]
    labels = {"office": world.office, "contract": scenario.contract, "verdict": "not_found"}
    assert sample(world, RECONCILED, labels) == 1


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
async def test_a_create_in_doubt_between_two_fitting_rows_is_dead_as_ambiguous(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle, od: OpenDentalClient, scenario: Scenario,
) -> None:
    # Given a vendor's patient, two rows fitting the create's natural keys that another program
    # made through the API, and Open Dental answering the next write 500
    world = await make_world()
    ref = unique("patient-ref")
    taps = await dead_letter_tap(hub_channel, world.office)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        pat_num = await anchor_patient(world, vendor, hub_channel, ref)
        twins = [await _create(od, scenario, twin_body(scenario, pat_num, n)) for n in (0, 1)]
        simulator.set_faults(FIRST_500)
        # When the vendor's create meets it
        intent = scenario_intent(scenario, world.office, ref)
        await vendor.publish(intent, office=world.office, contract=scenario.contract)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
        (dead,) = await drain(taps, 1)

    # Then it is dead as ambiguous, naming both candidates, and nothing was sent again
    assert (event.status, event.reason) == (OutcomeStatus.DEAD, OutcomeReason.AMBIGUOUS)
    assert event.message is not None and all(str(key) in event.message for key in twins)
    assert dead.headers[names.HEADER_REASON] == "ambiguous"
    candidates = json.loads(str(dead.headers[names.HEADER_CANDIDATES]))
    assert sorted(row["primary_key"] for row in candidates) == sorted(twins)
    assert {row["table"] for row in candidates} == {scenario.table}
    assert await api_statuses(ledger, event) == [500]
    rows = await od_rows(world.od_database, ROWS_OF[scenario.table], rows_args(scenario, pat_num))
    assert sorted(row["pk"] for row in rows) == sorted(twins)


async def test_a_create_in_doubt_waits_while_the_office_database_cannot_be_read(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given an office whose database refuses connections, and Open Dental committing each
    # write and closing the connection without a reply
    port = free_port()
    world = await make_world(od_db_port=port)
    simulator.set_faults(EVERY_WRITE_DROPPED)
    key, last = unique("key"), letters()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When an intent's create meets it
        await vendor.publish(patient_create(world.office, key, last=last), office=world.office)

        # Then the lane pauses for it, with its reason, and probes again and again, sending
        # nothing again meanwhile
        held = {"office": world.office, "contract": "patient.create",
                "error_class": "reconcile_unavailable"}

        async def held_thrice() -> bool:
            return sample(world, "hub_retries_total", held) >= 3

        await eventually(held_thrice, "three probes of the office's database")
        paused = {"office": world.office, "cause": "reconcile_unavailable"}
        assert sample(world, "hub_lane_paused", paused) == 1
        told = await ledger.story(vendor.name, key)
        assert told is not None and told.intent.status == "attempting"
        assert [call.status for call in told.api_calls] == [None]

        # When the database can be read again
        async with forwarding(port, ROOT.host, ROOT.port):
            (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the row the lost reply made is found: applied, once, after one request
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
    assert await api_statuses(ledger, event) == [None]
    assert len(await patients_named(world.od_database, last)) == 1
    # And the lane is no longer paused
    assert sample(world, "hub_lane_paused", paused) == 0


async def test_a_read_only_login_refused_pauses_the_lane_until_the_account_works(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle, empty_database: str,
) -> None:
    # Given an office whose read-only account the database refuses (1045: the hub was given
    # the account's new password before the database's was changed), and Open Dental dropping
    # each write's reply after committing it
    user = unique("od-ro")[:32]
    async with read_only_account(user, "old-password", empty_database):
        world = await make_world(od_db_login=(user, "new-password"))
        simulator.set_faults(EVERY_WRITE_DROPPED)
        key, last = unique("key"), letters()
        async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
            await vendor.publish(patient_create(world.office, key, last=last), office=world.office)

            # When reconciliation cannot log in, Then the lane pauses with that reason and
            # probes with a growing delay, dead-lettering nothing and sending nothing again
            paused = {"office": world.office, "cause": "reconcile_unavailable"}

            async def paused_and_probing() -> bool:
                probes = {"office": world.office, "contract": "patient.create",
                          "error_class": "reconcile_unavailable"}
                return (sample(world, "hub_lane_paused", paused) == 1
                        and sample(world, "hub_retries_total", probes) >= 2)

            await eventually(paused_and_probing, "the lane paused for reconciliation")
            told = await ledger.story(vendor.name, key)
            assert told is not None and told.intent.status == "attempting"
            # When the account's password is changed to the one the hub has
            await root_sql(f"ALTER USER '{user}'@'%' IDENTIFIED BY 'new-password'")
            (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
            simulator.set_faults(FaultConfig())
        # Then the lane goes on: the row the lost reply made is found, applied once
        assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
        assert len(await patients_named(world.od_database, last)) == 1
        assert sample(world, "hub_lane_paused", paused) == 0


async def _create(od: OpenDentalClient, scenario: Scenario, body: WireBody) -> int:
    """Another program's row, through the API (so with its securitylog row)."""
    sends = {
        "patient": od.create_patient, "appointment": od.create_appointment,
        "commlog": od.create_commlog, "payment": od.create_payment,
        "document": od.upload_document,
        "allergy": od.create_allergy,
        "medicationpat": od.create_medication,
        "disease": od.create_problem,
    }
    return (await sends[scenario.table](body)).primary_key
