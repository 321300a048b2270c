"""``hub worker`` processes dying: SIGKILL at any point and a restart carries on; two writers on
one broker share the offices, one active consumer per office, and when one is killed its offices
move to the other. Every intent ends exactly once: Open Dental's rows are counted by SQL."""

from __future__ import annotations

import asyncio
import itertools
import signal
from contextlib import AbstractAsyncContextManager

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub import names
from hub.ledger import MySqlLedger
from odsim.faults import FaultConfig, InjectedFault
from odsim.server import SimHandle
from tests.reliability.support import active_flags, every_key, sample
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    FULL_KEY,
    GUARD_S,
    SLOW_KEY,
    World,
    drain_outcomes,
    drain_outcomes_until,
    eventually,
    letters,
    patient_create,
    patients_named,
    running_worker,
    unique,
    vendor_client,
)
from tests.writer.test_shutdown import worker_process as hub_worker_process

# Every writer here, process or not: an attempt a killed writer left in doubt is reconciled
# this long (plus a margin) after it began.
ATTEMPT_TIMEOUT = {"attempt_timeout_s": 1.0}
# Every writer here beats often and counts another gone after 3 s without a beat.
SHARING = {"pause_poll_s": 0.2, "status_heartbeat_s": 0.3, "writer_stale_s": 3.0}


def worker_process(world: World) -> AbstractAsyncContextManager[asyncio.subprocess.Process]:
    """``hub worker`` as a process of its own, with this module's attempt timeout and polls."""
    env = {"HUB_WRITER__ATTEMPT_TIMEOUT_S": str(ATTEMPT_TIMEOUT["attempt_timeout_s"])}
    env |= {f"HUB_CONTROL__{name.upper()}": str(value) for name, value in SHARING.items()}
    return hub_worker_process(world, env)


async def exactly_once(world: World, ledger: MySqlLedger, intents: dict[str, str]) -> None:
    """Each intent (key → surname) is applied, with exactly one row in Open Dental."""
    for key, last in intents.items():
        assert len(await patients_named(world.od_database, last)) == 1, key
        told = await ledger.story(world.vendor.name, key)
        assert told is not None and told.intent.status == "applied", key


async def test_a_writer_killed_mid_request_is_restarted_and_every_intent_ends_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given `hub worker` applying a stream of intents, the first two applied
    world = await make_world()
    intents = {unique("key"): letters() for _ in range(8)}
    stream = iter(intents.items())
    async with vendor_client(world.settings, world.vendor) as vendor:
        for key, last in itertools.islice(stream, 2):
            await vendor.publish(patient_create(world.office, key, last=last), office=world.office)
        async with worker_process(world) as first:
            seen = await drain_outcomes(hub_channel, vendor.name, 2)

            # When Open Dental holds the next request unanswered, and the writer is killed
            # (SIGKILL) while that request is in Open Dental's hands
            simulator.set_faults(FaultConfig(hold=True, customer_keys=(FULL_KEY,)))
            for key, last in stream:
                await vendor.publish(patient_create(world.office, key, last=last),
                                     office=world.office)

            async def request_held() -> bool:
                return simulator.faults.injected[InjectedFault.HOLD] >= 1

            await eventually(request_held, "a request held by Open Dental")
            first.send_signal(signal.SIGKILL)
            await first.wait()
        # And Open Dental goes on (the held request died with its connection, unprocessed)
        simulator.set_faults(FaultConfig())
        # And a new one starts
        async with worker_process(world) as second:
            enough = every_key(intents, seen)
            events = seen + await drain_outcomes_until(hub_channel, vendor.name, enough)
            second.send_signal(signal.SIGTERM)
            async with asyncio.timeout(GUARD_S):
                await second.wait()

    # Then every intent reached an applied outcome and exists exactly once in Open Dental
    assert first.returncode == -signal.SIGKILL and second.returncode == 0
    assert all(event.status is OutcomeStatus.APPLIED for event in events)
    await exactly_once(world, ledger, intents)


async def test_two_writers_share_the_offices_and_a_killed_one_s_move_to_the_other(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given two offices with intents waiting, Open Dental taking 200 ms a request, and a writer
    # process that applied some of them until Open Dental's eConnector went down
    world = await make_world(
        keys=(FULL_KEY, SLOW_KEY), writer=FAST_WRITER.model_copy(update=ATTEMPT_TIMEOUT)
    )
    sharing = world.settings.control.model_copy(update=SHARING)
    world.settings = world.settings.model_copy(update={"control": sharing})
    simulator.set_faults(FaultConfig(latency_ms=200))
    offices = [office.id for office in world.offices]
    intents = {office: {unique("key"): letters() for _ in range(6)} for office in offices}
    queues = [names.office_queue(office) for office in offices]
    async with vendor_client(world.settings, world.vendor) as vendor:
        for office, stream in intents.items():
            for key, last in stream.items():
                await vendor.publish(patient_create(office, key, last=last), office=office)
        async with worker_process(world) as first:
            seen = await drain_outcomes(hub_channel, vendor.name, 2)
            simulator.set_faults(FaultConfig(econnector_down_s=600))
            # And a second writer (in this process) on the same queues
            async with running_worker(world):

                async def one_consumer_each() -> bool:
                    flags = [await active_flags(queue) for queue in queues]
                    return all(each == [True] for each in flags)

                async def one_office_each() -> bool:
                    return sorted(_received(world, office) > 0 for office in offices) == [
                        False, True,
                    ]

                # Then each office has one consumer, active, and the second writer serves one
                # of the two offices (the first handed it over, its held message first)
                await eventually(one_consumer_each, "one active consumer per office")
                await eventually(one_office_each, "the second writer serving one office")

                # When the first writer is killed, and Open Dental answers again
                first.send_signal(signal.SIGKILL)
                await first.wait()
                simulator.set_faults(FaultConfig())

                # Then the second takes over every office and applies the rest
                every = [key for stream in intents.values() for key in stream]
                enough = every_key(every, seen)
                events = seen + await drain_outcomes_until(hub_channel, vendor.name, enough)
                assert all(_received(world, office) > 0 for office in offices)

    # And every intent was applied exactly once, none lost
    assert all(event.status is OutcomeStatus.APPLIED for event in events)
    for stream in intents.values():
        await exactly_once(world, ledger, stream)


def _received(world: World, office: str) -> float:
    """Intents the in-process writer began processing for the office."""
    labels = {"vendor": world.vendor.name, "office": office, "contract": "patient.create"}
    return sample(world, "hub_intents_received_total", labels)
