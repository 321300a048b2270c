"""The writer's bound on the bytes its lanes work on at once: room is granted in arrival order,
a body larger than the budget runs alone, and a waiter that gives up leaves nothing held."""

from __future__ import annotations

import asyncio

import pytest
from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from contracts.limits import SMALL_MAX_BYTES
from hub.writer.working_bytes import WorkingBytes
from odsim.faults import FaultConfig, InjectedFault
from odsim.server import SimHandle
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    FULL_KEY,
    SLOW_KEY,
    document_upload,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)


async def _enter(budget: WorkingBytes, size: int, log: list[int], leave: asyncio.Event) -> None:
    async with budget.room(size):
        log.append(size)
        await leave.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_bodies_beyond_the_budget_wait_and_enter_in_arrival_order() -> None:
    # Given a budget of 100 bytes, one body of 60 being worked on
    budget = WorkingBytes(100, unmetered_bytes=0)
    entered: list[int] = []
    leave = [asyncio.Event() for _ in range(3)]
    first = asyncio.create_task(_enter(budget, 60, entered, leave[0]))
    await _settle()
    # When a body of 50 arrives, then one of 10 (which alone would fit)
    waits = [asyncio.create_task(_enter(budget, size, entered, leave[i + 1]))
             for i, size in enumerate((50, 10))]
    await _settle()
    # Then neither enters: the small one does not overtake the one that waits before it
    assert (entered, budget.used_bytes, budget.waiting) == ([60], 60, 2)
    # And once the first is done, both enter, in their order
    leave[0].set()
    await _settle()
    assert (entered, budget.used_bytes) == ([60, 50, 10], 60)
    for event in leave:
        event.set()
    await asyncio.gather(first, *waits)
    assert budget.used_bytes == 0


async def test_a_body_larger_than_the_budget_runs_alone() -> None:
    # Given a budget of 100 bytes and a body of 10 being worked on
    budget = WorkingBytes(100, unmetered_bytes=0)
    entered: list[int] = []
    small_leaves, large_leaves = asyncio.Event(), asyncio.Event()
    small = asyncio.create_task(_enter(budget, 10, entered, small_leaves))
    await _settle()
    # When a body of 500 arrives
    large = asyncio.create_task(_enter(budget, 500, entered, large_leaves))
    await _settle()
    # Then it waits for the room to empty, and then runs, alone
    assert entered == [10]
    small_leaves.set()
    await _settle()
    assert (entered, budget.used_bytes) == ([10, 500], 500)
    large_leaves.set()
    await asyncio.gather(small, large)


@pytest.mark.parametrize("granted", [False, True], ids=["while-waiting", "as-it-was-granted"])
async def test_a_waiter_cancelled_holds_no_room_and_blocks_no_one(granted: bool) -> None:
    # Given a full budget and a waiter behind it, then another
    budget = WorkingBytes(100, unmetered_bytes=0)
    entered: list[int] = []
    leave = asyncio.Event()
    holder = asyncio.create_task(_enter(budget, 100, entered, leave))
    await _settle()
    waiter = asyncio.create_task(_enter(budget, 80, entered, asyncio.Event()))
    await _settle()
    behind = asyncio.create_task(_enter(budget, 20, entered, leave))
    await _settle()
    # When the first waiter is cancelled (before or just as its room is granted)
    if granted:
        leave.set()  # the holder leaves: the waiter is granted, but has not run yet
        await asyncio.sleep(0)
    waiter.cancel()
    leave.set()
    await asyncio.gather(holder, behind, waiter, return_exceptions=True)
    # Then the one behind it got in, and no room stays held
    assert 20 in entered and 80 not in entered
    assert (budget.used_bytes, budget.waiting) == (0, 0)


async def test_a_small_body_never_waits_for_large_ones() -> None:
    # Given a full budget and a large body waiting for room
    budget = WorkingBytes(100, unmetered_bytes=10)
    entered: list[int] = []
    leave = asyncio.Event()
    tasks = [asyncio.create_task(_enter(budget, size, entered, leave)) for size in (100, 50)]
    await _settle()
    # When a body no larger than the unmetered size arrives
    tasks.append(asyncio.create_task(_enter(budget, 10, entered, leave)))
    await _settle()
    # Then it runs at once, counted nowhere
    assert (entered, budget.used_bytes, budget.waiting) == ([100, 10], 100, 1)
    leave.set()
    await asyncio.gather(*tasks)


async def test_a_lane_waits_for_room_for_its_document_and_small_messages_never_do(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, simulator: SimHandle
) -> None:
    # Given a writer with room for one document at a time, and two offices, the first's Open
    # Dental holding every request unanswered until the test lets it go
    writer = FAST_WRITER.model_copy(update={"working_bytes": 1, "attempt_timeout_s": 120.0})
    world = await make_world(keys=(SLOW_KEY, FULL_KEY), writer=writer)
    slow, fast = world.offices[0].id, world.offices[1].id
    async with running_worker(world) as worker, vendor_client(
        world.settings, world.vendor
    ) as vendor:
        await vendor.publish(patient_create(fast, unique("key"), last=letters()), office=fast)
        (patient,) = await drain_outcomes(hub_channel, vendor.name, 1)
        pat_num = patient.od[0].primary_key
        simulator.set_faults(FaultConfig(hold=True, customer_keys=(SLOW_KEY,)))
        # When the slow office's document is being sent (and held)
        big = SMALL_MAX_BYTES  # its base64 a third larger: a large body
        await vendor.publish(document_upload(slow, unique("key"), pat_num=pat_num,
                                             file_bytes=big), office=slow)

        async def held() -> bool:
            return simulator.faults.injected[InjectedFault.HOLD] == 1

        await eventually(held, "the slow office's upload held")
        # And the fast office gets a small message, then a document
        small_key, document_key = unique("key"), unique("key")
        await vendor.publish(patient_create(fast, small_key, last=letters()), office=fast)
        await vendor.publish(document_upload(fast, document_key, pat_num=pat_num,
                                             file_bytes=big), office=fast)
        # Then the small message is applied at once, while the held upload holds the room
        (small,) = await drain_outcomes(hub_channel, vendor.name, 1)
        assert (small.idempotency_key, small.status) == (small_key, OutcomeStatus.APPLIED)

        # And the fast office's document waits for room, unsent
        async def waiting() -> bool:
            return worker.working.waiting == 1

        await eventually(waiting, "the fast office's document waiting for room")
        # When the held upload is answered, Then both documents are applied, the held one first
        simulator.set_faults(FaultConfig())
        documents = await drain_outcomes(hub_channel, vendor.name, 2)
    assert [(event.office_id, event.status) for event in documents] == [
        (slow, OutcomeStatus.APPLIED), (fast, OutcomeStatus.APPLIED)]
    assert (worker.working.used_bytes, worker.working.waiting) == (0, 0)
