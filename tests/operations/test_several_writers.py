"""A pause reaches every writer: the one consuming an office's queue, and the one the broker
would hand the queue to when that writer stops; neither consumes it while it is paused."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import replace

from aio_pika.abc import AbstractRobustChannel
from prometheus_client import CollectorRegistry

from contracts import OutcomeStatus
from hub.control.commands import pause_office, resume_office
from hub.ledger import MySqlLedger
from hub.status import LaneLine, gather
from odsim.outages import OutageChange, OutageKind
from odsim.server import SimHandle
from tests.operations.support import ALICE, fast, publish, running_writer, vendor_channel
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FULL_KEY,
    World,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    unique,
)


async def _lines(world: World) -> list[LaneLine]:
    return [line for line in (await gather(world.settings)).lanes if line.office == world.office]


async def _until_lines(
    world: World, expected: list[tuple[str, str, int]], *, waiting: int = 0
) -> None:
    """Until the office's status lines are (writer, state, in flight) as expected, with
    ``waiting`` messages ready in its queue or parked (a writer standing down while another
    stands by parks what reaches it before the other has seen its hold)."""

    async def shown() -> bool:
        lines = await _lines(world)
        seen = [(ln.writer_id or "", ln.state, ln.in_flight or 0) for ln in lines]
        held = [(ln.queue_depth or 0) + (ln.parked or 0) for ln in lines]
        return seen == sorted(expected) and held == [waiting] * len(lines)

    await eventually(shown, f"the office's lanes show {expected}, {waiting} waiting")


async def test_a_paused_office_stays_paused_when_another_writer_takes_its_queue(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given two writers on one office, the first consuming its queue and the other standing by
    world = fast(await make_world())
    keys, vendor = [unique("held"), unique("held")], world.vendor.name
    async with AsyncExitStack() as first_writer:
        first = await first_writer.enter_async_context(running_writer(world))
        standby = replace(world, metrics=CollectorRegistry())
        async with running_writer(standby) as second:
            ids = first.parts.control.writer_id, second.parts.control.writer_id
            # And the office paused, with two intents waiting ready in its queue
            await pause_office(world.settings, world.environ, world.office, ALICE)
            await _until_lines(world, [(ids[0], "paused", 0), (ids[1], "paused", 0)])
            async with vendor_channel(world.settings, world.vendor) as channel:
                for key in keys:
                    intent = patient_create(world.office, key, last=letters())
                    await publish(channel, vendor, intent)
            await _until_lines(world, [(ids[0], "paused", 0), (ids[1], "paused", 0)], waiting=2)
            # When the first writer stops
            await first_writer.aclose()
            # Then the other writer does not consume the queue either: none applied
            await _until_lines(world, [(ids[1], "paused", 0)], waiting=2)
            assert [await ledger.story(vendor, key) for key in keys] == [None, None]
            # And once resumed, they are applied, in order
            await resume_office(world.settings, world.environ, world.office, ALICE)
            events = await drain_outcomes(hub_channel, vendor, 2)
    assert [(e.idempotency_key, e.status) for e in events] == [
        (key, OutcomeStatus.APPLIED) for key in keys
    ]


async def test_a_writer_standing_by_never_overtakes_what_the_other_parked(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, simulator: SimHandle
) -> None:
    # Given two writers on one office, the first consuming, and a broker timeout short enough
    # that a hold of a second parks: the first writer will stand down with its hold while the
    # other stands by on the queue; after a 401 a lane waits 5 s before it tries again, and
    # the writers read each other's holds only every 5 s (the database is asked on a hand-over)
    world = fast(await make_world())
    patient = world.settings.writer.model_copy(
        update={"auth_pause_s": 5.0, "auth_pause_cap_s": 5.0}
    )
    slow_view = world.settings.control.model_copy(
        update={"pause_poll_s": 5.0, "writer_stale_s": 15.0}
    )
    world.settings = world.settings.model_copy(
        update={"broker_consumer_timeout_s": 2.0, "writer": patient, "control": slow_view}
    )
    first, later = [unique("first") for _ in range(3)], [unique("later") for _ in range(3)]
    vendor = world.vendor.name
    simulator.outages.set(OutageChange(customer_key=FULL_KEY, kind=OutageKind.UNAUTHORIZED))
    standby = replace(world, metrics=CollectorRegistry())
    async with running_writer(world) as one, running_writer(standby) as two:
        # When the office's key is refused (401) while three intents arrive, the active writer
        # stands down with them parked; then the key works again, and three more are published
        # while that writer waits out its pause
        async with vendor_channel(world.settings, world.vendor) as channel:
            for key in first:
                await publish(channel, vendor, patient_create(world.office, key, last=letters()))

            async def parked() -> bool:
                lines = await _lines(world)
                return bool(lines) and lines[0].hold is not None and lines[0].parked == 3

            await eventually(parked, "the first three parked under a hold")
            simulator.outages.set(OutageChange(customer_key=FULL_KEY, kind=None))
            for key in later:
                await publish(channel, vendor, patient_create(world.office, key, last=letters()))
        events = await drain_outcomes(hub_channel, vendor, 6)
        writers = {one.parts.control.writer_id, two.parts.control.writer_id}
    # Then all six are applied in the order published: the writer given the queue meanwhile
    # applied none of the later ones before the parked ones
    assert [(e.idempotency_key, e.status) for e in events] == [
        (key, OutcomeStatus.APPLIED) for key in [*first, *later]
    ]
    assert len(writers) == 2
