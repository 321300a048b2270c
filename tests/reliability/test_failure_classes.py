"""Each class of Open Dental failure, through the writer: transient ones retried in place (after
reconciliation when they may have landed), an unreachable office paused and probed, permanent
ones rejected at once. (An eConnector window, a throttle reply, exhaustion and a 401 are in
tests/writer.)"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeReason, OutcomeStatus
from hub.ledger import MySqlLedger
from hub.opendental import OpenDentalClient
from hub.settings import WriterSettings
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.reliability.proxy import forwarding, free_port
from tests.reliability.support import (
    FIRST_500,
    FIRST_504,
    FIRST_504_AFTER_S,
    api_statuses,
    intent_of,
    sample,
)
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    dead_letter_tap,
    drain,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    patients_named,
    running_worker,
    unique,
    vendor_client,
)


@pytest.mark.parametrize(
    ("fault", "writer", "statuses"),
    [
        pytest.param(FIRST_500, FAST_WRITER, [500, 201], id="500-then-201"),
        pytest.param(FIRST_504, FAST_WRITER, [504, 201], id="504-after-a-delay"),
        pytest.param(
            FIRST_504, FAST_WRITER.model_copy(update={"attempt_timeout_s": FIRST_504_AFTER_S / 3}),
            [None, 201], id="attempt-timeout",
        ),
    ],
)
async def test_a_transient_failure_is_reconciled_then_sent_again_and_applied_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle, fault: FaultConfig, writer: WriterSettings,
    statuses: list[int | None],
) -> None:
    # Given Open Dental failing the next request (a 500 at once, a 504 after a delay, or slower
    # than the writer's attempt may take), writing nothing
    world = await make_world(writer=writer)
    simulator.set_faults(fault)
    last = letters()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When an intent meets it
        await vendor.publish(patient_create(world.office, unique("key"), last=last),
                             office=world.office)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then it was retried in place after the failure and applied, once
    assert event.status is OutcomeStatus.APPLIED
    assert await api_statuses(ledger, event) == statuses
    assert len(await patients_named(world.od_database, last)) == 1


async def test_an_office_refusing_connections_pauses_its_lane_until_it_answers(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given an office whose Open Dental refuses connections, and a writer allowed one attempt
    port = free_port()
    world = await make_world(
        api_url=f"http://127.0.0.1:{port}/api/v1",
        writer=FAST_WRITER.model_copy(update={"max_attempts": 1}),
    )
    taps = await dead_letter_tap(hub_channel, world.office)
    key, last = unique("key"), letters()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(patient_create(world.office, key, last=last), office=world.office)

        # When the writer has probed it three times
        async def probed_thrice() -> bool:
            told = await ledger.story(vendor.name, key)
            return told is not None and len(told.api_calls) >= 3

        await eventually(probed_thrice, "three refused connections")
        # Then the lane is paused and none of its probes counted as an attempt of the intent
        paused = {"office": world.office, "state": "paused"}
        assert sample(world, "hub_lane_state", paused) == 1
        told = await ledger.story(vendor.name, key)
        assert told is not None and told.intent.status in {"received", "attempting"}
        budget = await ledger.retry_budget(told.intent.id)
        assert budget is not None and budget.counted_attempts <= 1  # the one maybe in flight

        # When Open Dental answers again
        sim = urlsplit(simulator.base_url)
        assert sim.hostname is not None and sim.port is not None
        async with forwarding(port, sim.hostname, sim.port):
            (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the intent is applied, once, and nothing was dead-lettered
    assert event.status is OutcomeStatus.APPLIED
    assert (await api_statuses(ledger, event))[-1] == 201
    assert len(await patients_named(world.od_database, last)) == 1
    assert await taps.get(fail=False) is None


@pytest.mark.parametrize(
    ("contract", "payload", "status"),
    [
        pytest.param(
            "appointment.create", {"Op": 999, "AptDateTime": "2031-05-06 09:30:00"}, 400,
            id="validation-400",
        ),
        pytest.param("appointment.confirm", {"AptNum": 999999, "confirmVal": "Confirmed"}, 404,
                     id="404"),
    ],
)
async def test_a_permanent_failure_is_rejected_at_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    od: OpenDentalClient, contract: str, payload: dict[str, object], status: int,
) -> None:
    # Given an intent Open Dental will refuse for what it says (an operatory it does not have,
    # an appointment it does not know)
    world = await make_world()
    pat_num = (await od.create_patient({"LName": letters(), "FName": "Ada"})).primary_key
    body = {**payload, "PatNum": pat_num} if contract == "appointment.create" else payload
    taps = await dead_letter_tap(hub_channel, world.office)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When it is published
        intent = intent_of(contract, world.office, unique("key"), body)
        await vendor.publish(intent, office=world.office, contract=contract)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
        (dead,) = await drain(taps, 1)

    # Then it is rejected after one request, and dead-lettered with its reason
    assert (event.status, event.reason) == (OutcomeStatus.REJECTED, OutcomeReason.OD_REJECTED)
    assert await api_statuses(ledger, event) == [status]
    assert dead.headers["x-hub-reason"] == "od_rejected"
