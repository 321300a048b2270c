"""The writer's bound on the bytes its lanes work on at once: room is granted in arrival order,
a body larger than the budget runs alone, and a waiter that gives up leaves nothing held."""

from __future__ import annotations

import asyncio

import pytest

from hub.writer.working_bytes import WorkingBytes


async def _enter(budget: WorkingBytes, size: int, log: list[int], leave: asyncio.Event) -> None:
    async with budget.room(size):
        log.append(size)
        await leave.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_bodies_beyond_the_budget_wait_and_enter_in_arrival_order() -> None:
    # Given a budget of 100 bytes, one body of 60 being worked on
    budget = WorkingBytes(100)
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
    budget = WorkingBytes(100)
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
    budget = WorkingBytes(100)
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
