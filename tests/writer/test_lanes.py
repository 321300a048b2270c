"""Lanes: a slow office holds only its own lane, and a 401 pauses a lane without dead-lettering
anything; its messages wait, in order, until the office's key works again."""

from __future__ import annotations

from pathlib import Path

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub import names
from hub.ledger import MySqlLedger
from odsim.faults import FaultConfig, InjectedFault
from odsim.server import SimHandle
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    DISABLED_KEY,
    FAST_WRITER,
    FULL_KEY,
    SLOW_KEY,
    dead_letter_tap,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    rekeyed,
    running_worker,
    unique,
    vendor_client,
)

PER_OFFICE = 6
# Longer than any wait of the test's (GUARD_S): a held request is never given up on meanwhile.
HELD_ATTEMPT_S = 120.0


async def test_a_slow_office_does_not_slow_another(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, simulator: SimHandle
) -> None:
    # Given two offices, the first's Open Dental holding every request unanswered until the test
    # lets it go (no attempt of the writer's gives up on it meanwhile), the second answering
    world = await make_world(
        keys=(SLOW_KEY, FULL_KEY),
        writer=FAST_WRITER.model_copy(update={"attempt_timeout_s": HELD_ATTEMPT_S}),
    )
    slow, fast = world.offices[0].id, world.offices[1].id
    simulator.set_faults(FaultConfig(hold=True, customer_keys=(SLOW_KEY,)))
    slow_keys = [unique("key") for _ in range(PER_OFFICE)]
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When each gets the same number of intents, the slow one's first
        for slow_key in slow_keys:
            for office, key in ((slow, slow_key), (fast, unique("key"))):
                await vendor.publish(patient_create(office, key, last=letters()), office=office)

        async def held() -> bool:
            return simulator.faults.injected[InjectedFault.HOLD] == 1

        await eventually(held, "the slow office's first request held")
        # Then the fast office has all of its outcomes while the slow one's first request is
        # still unanswered, its other intents waiting behind it
        events = await drain_outcomes(hub_channel, vendor.name, PER_OFFICE)
        assert {event.office_id for event in events} == {fast}
        assert all(event.status is OutcomeStatus.APPLIED for event in events)
        assert simulator.faults.injected[InjectedFault.HOLD] == 1

        # When the slow office answers again, Then its intents are applied too, in order
        simulator.set_faults(FaultConfig())
        events = await drain_outcomes(hub_channel, vendor.name, PER_OFFICE)
    assert [(event.idempotency_key, event.status) for event in events] == [
        (key, OutcomeStatus.APPLIED) for key in slow_keys
    ]


async def test_a_401_pauses_the_lane_and_dead_letters_nothing_until_the_key_works(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    tmp_path: Path,
) -> None:
    # Given an office whose customer key Open Dental refuses with 401
    world = await make_world(keys=(DISABLED_KEY,))
    taps = await dead_letter_tap(hub_channel, world.office)
    keys = [unique("key"), unique("key")]
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        for key in keys:
            intent = patient_create(world.office, key, last=letters())
            await vendor.publish(intent, office=world.office)

        # When the lane has paused and tried again a few times
        async def tried_thrice() -> bool:
            told = await ledger.story(vendor.name, keys[0])
            return told is not None and told.intent.attempts >= 3

        await eventually(tried_thrice, "three attempts on a refused key")

        # Then the first intent waits unfinished, the second was never taken from the queue
        told = await ledger.story(vendor.name, keys[0])
        assert told is not None and told.intent.status in {"received", "attempting"}
        assert {call.status for call in told.api_calls} == {401}
        assert await ledger.story(vendor.name, keys[1]) is None
        # And the lane shows as paused, with the 401s counted for the alert
        office = {"office": world.office}
        assert world.metrics.get_sample_value("hub_lane_state", {**office, "state": "paused"}) == 1
        auth_failures = world.metrics.get_sample_value("hub_od_auth_failures_total", office)
        assert auth_failures is not None and auth_failures >= 3

    # And nothing was dead-lettered or told to the vendor
    assert await taps.get(fail=False) is None
    outcomes = await hub_channel.declare_queue(names.outcome_queue(vendor.name), passive=True)
    assert outcomes.declaration_result.message_count == 0

    # When the office's key works again, Then both intents are applied, in order: none was lost
    fixed = rekeyed(world, tmp_path, FULL_KEY)
    async with running_worker(fixed):
        events = await drain_outcomes(hub_channel, vendor.name, 2)
    assert [(event.idempotency_key, event.status) for event in events] == [
        (key, OutcomeStatus.APPLIED) for key in keys
    ]
