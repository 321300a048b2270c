"""Several writers share the offices: each office queue has one active consumer, the writers'
shares differ by one at most, a joining writer takes its share and a dead writer's share goes
to the others, as the broker itself shows (which consumer is active on each queue)."""

from __future__ import annotations

import asyncio
import signal
from contextlib import AbstractAsyncContextManager, AsyncExitStack

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub.status import gather
from tests.fleet.support import (
    SHARING,
    active_consumers,
    another_writer,
    owned,
    sharing,
    spread_is,
    until,
)
from tests.operations.support import publish, running_writer, vendor_channel
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FULL_KEY,
    World,
    drain_outcomes,
    letters,
    patient_create,
    unique,
)
from tests.writer.test_shutdown import worker_process


async def _every_office_applies(world: World, channel: AbstractRobustChannel) -> None:
    """One intent to each office, each applied: every office is served."""
    offices, vendor = [office.id for office in world.offices], world.vendor
    async with vendor_channel(world.settings, vendor) as publishing:
        for office in offices:
            await publish(publishing, vendor.name, patient_create(office, unique("k"),
                                                                  last=letters()))
    events = await drain_outcomes(channel, vendor.name, len(offices))
    assert sorted(e.office_id for e in events) == sorted(offices)
    assert {e.status for e in events} == {OutcomeStatus.APPLIED}


def _writer_process(world: World) -> AbstractAsyncContextManager[asyncio.subprocess.Process]:
    """``hub worker`` as a process of its own, beating as fast as the others; killed on exit."""
    return worker_process(world, {
        f"HUB_CONTROL__{name.upper()}": str(value)
        for name, value in SHARING.model_dump().items()
    })


async def test_three_writers_share_twelve_offices_four_each(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given twelve offices and one writer, active on every office queue
    world = sharing(await make_world(keys=[FULL_KEY] * 12))
    offices = [office.id for office in world.offices]
    worlds = [world, another_writer(world), another_writer(world)]
    async with AsyncExitStack() as writers:
        first = await writers.enter_async_context(running_writer(worlds[0]))
        ids = [first.parts.control.writer_id]
        await until(lambda: spread_is(offices, {ids[0]: 12}), "one writer on all 12 queues")
        # When two more writers join, one after the other
        for joining in worlds[1:]:
            joined = await writers.enter_async_context(running_writer(joining))
            ids.append(joined.parts.control.writer_id)
        # Then the broker has each of them active on four office queues, one active each
        await until(lambda: spread_is(offices, dict.fromkeys(ids, 4)), "4/4/4 active")
        # And each writer counts four offices its own
        assert [owned(each) for each in worlds] == [4.0, 4.0, 4.0]
        # And `hub status` names, for each office, the writer the broker made active, and
        # gives each writer's share
        active = await active_consumers(offices)

        async def status_agrees() -> bool:
            status = await gather(world.settings)
            serving = {ln.office: ln.writer_id for ln in status.lanes if ln.serving}
            shares = {w.writer_id: w.serving for w in status.writers if w.live}
            return serving == {o: ws[0] for o, ws in active.items()} and shares == dict.fromkeys(
                ids, 4
            )

        await until(status_agrees, "hub status showing the serving writer of each office")
        # And every office is served
        await _every_office_applies(world, hub_channel)


async def test_a_killed_writer_s_offices_go_to_the_others_evenly(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given twelve offices over three writers, one of them a `hub worker` process
    world = sharing(await make_world(keys=[FULL_KEY] * 12))
    offices = [office.id for office in world.offices]
    others = another_writer(world)
    async with running_writer(world) as one, running_writer(others) as two, _writer_process(
        world
    ) as process:
        ids = [one.parts.control.writer_id, two.parts.control.writer_id]

        async def three_share() -> bool:
            active = await active_consumers(offices)
            shares = list(active.values())
            writers = {w for ws in shares for w in ws}
            return all(len(ws) == 1 for ws in shares) and len(writers) == 3 and all(
                sum(ws == [w] for ws in shares) == 4 for w in writers
            )

        await until(three_share, "4/4/4 active over the three writers")
        # When the process is killed
        process.send_signal(signal.SIGKILL)
        await process.wait()
        # Then, once its beat is stale, the two left are active on six office queues each
        await until(lambda: spread_is(offices, dict.fromkeys(ids, 6)), "6/6 active")
        assert [owned(one_world) for one_world in (world, others)] == [6.0, 6.0]
        # And `hub status` shows the killed writer gone, serving nothing, the others six each

        async def status_shows_it() -> bool:
            status = await gather(world.settings)
            shares = sorted((w.live, w.serving) for w in status.writers)
            return shares == [(False, 0), (True, 6), (True, 6)]

        await until(status_shows_it, "hub status: the killed writer gone, 6/6 served")
        # And every office is served
        await _every_office_applies(world, hub_channel)
