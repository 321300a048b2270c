"""One chaos run: bring up the world and a watch over its offices, publish the plan while
writers are killed, one joins, the broker restarts and a rogue writes the offices' databases
directly, wait for the writers to drain, and account for every intent from the ledger, the
dead-letter queue and Open Dental's tables, for its order within its office from the ledger, for
every change's door from the watch's attributions, and for the offices' spread over the writers
after each change from the broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress

from lab.chaos.accounting import Accounting, account
from lab.chaos.agent import Agent, Schedule
from lab.chaos.config import ChaosConfig
from lab.chaos.dead_letters import read_dead_letters
from lab.chaos.door_accounting import DoorAccounting, account_doors, hub_writes
from lab.chaos.drain import wait_drained
from lab.chaos.effects import Effects, duplicates, sheet_fills
from lab.chaos.ledger_rows import (
    finishes,
    kills_inside,
    ledger_entries,
    lost_attempts,
    sheet_fill_spans,
    watch_changes,
    write_calls,
)
from lab.chaos.od_rows import run_rows
from lab.chaos.order import overtakers, publish_order
from lab.chaos.plan import Planned, plan
from lab.chaos.progress import Progress, RunState, follow_ledger
from lab.chaos.publishing import ChaosVendor, Pacer, Sent, publish_all
from lab.chaos.report import Chaos, ChaosReport
from lab.chaos.rogue import TAIL_S, Rogue, rogue_plan
from lab.chaos.spread import SpreadFigures, SpreadWatch
from lab.chaos.stack import Stack, running_stack
from lab.chaos.watching import RunWatch, watching
from lab.chaos.world import World

DEAD_LETTERS_PER_INTENT = 3  # a dead letter may be doubled by a crash; room to spare
SETTLE_TIMEOUT_S = 60.0  # after the drain, for the last change of the fleet to settle


@asynccontextmanager
async def scripted_vendors(stack: Stack) -> AsyncIterator[dict[str, ChaosVendor]]:
    async with AsyncExitStack() as exits:
        yield {
            name: await exits.enter_async_context(ChaosVendor(name, url))
            for name, url in stack.vendor_urls.items()
        }


async def _finish(tasks: Sequence[asyncio.Task[None]], timeout_s: float) -> None:
    """Wait for the chaos acts to end; cut them short at the timeout (the work stalled)."""
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error


async def chaos_phase(
    config: ChaosConfig, stack: Stack, streams: list[list[Planned]], state: RunState,
    progress: Progress, spread: SpreadWatch | None = None,
) -> tuple[list[Sent], bool]:
    """The streams published while writers are killed, one joins and the broker restarts, then
    the writers drained (False: the drain timed out) and, with ``spread``, its last change
    settled. The writers still run when it returns."""
    schedule = Schedule.draw(intents=config.intents, kills=config.kills,
                             restarts=config.broker_restarts, seed=config.seed)
    agent = Agent(schedule=schedule, state=state, writer=stack.writer, node=stack.node,
                  progress=progress, spread=spread)
    follow = asyncio.create_task(follow_ledger(state, stack.settings.ledger_db, progress))
    acts = [asyncio.create_task(agent.kill_writer()), asyncio.create_task(agent.restart_broker())]
    if config.join_at_s is not None:
        acts.append(asyncio.create_task(agent.join_writer(config.join_at_s)))
    watching_spread = []
    if spread is not None:
        stack.writer.on_change = spread.change
        spread.change("start")
        watching_spread.append(asyncio.create_task(spread.run()))
    try:
        async with scripted_vendors(stack) as vendors:
            sent = await publish_all(vendors, streams, Pacer(config.publish_rate), state.published)
        progress(f"published: {state.published.confirmed} confirmed, "
                 f"{state.published.refused} not confirmed")
        await _finish(acts, config.drain_timeout_s)
        drained = await wait_drained(stack.node.management_url, stack.world.office_ids(),
                                     stack.settings.ledger_db, config.drain_timeout_s)
        progress("drained" if drained else "drain timed out: reporting what is settled")
        if spread is not None:
            await spread.wait_settled(SETTLE_TIMEOUT_S)
    finally:
        for task in (follow, *acts, *watching_spread):
            task.cancel()
        for task in (follow, *acts, *watching_spread):
            with suppress(asyncio.CancelledError):
                await task
    return sent, drained


async def account_run(stack: Stack, sent: Sequence[Sent]) -> Accounting:
    """Every published intent's end, from the ledger, hub.dead and Open Dental's tables."""
    world = stack.world
    ledger = await ledger_entries(stack.settings.ledger_db)
    letters = await read_dead_letters(stack.settings, DEAD_LETTERS_PER_INTENT * len(sent) + 100)
    rows = await run_rows(stack.settings.od_db, world.office_databases(), world.surname)
    effects = Effects(rows)
    fills = [(world.database_of(s.planned.office), s.planned) for s in sent
             if s.planned.contract == "sheet.fill" and not s.planned.resend
             and (entry := ledger.get((s.planned.vendor, s.planned.key))) is not None
             and entry.status == "applied"]
    return account(world, sent, ledger, letters, effects, duplicates(rows),
                   sheet_fills(rows, fills, effects))


async def watched_chaos_phase(
    config: ChaosConfig, stack: Stack, streams: list[list[Planned]], state: RunState,
    progress: Progress, watch: RunWatch, spread: SpreadWatch,
) -> tuple[list[Sent], bool, Rogue]:
    """The chaos phase while the watch scans and the rogue writes directly; the rogue's last
    change and the watch's scan after the drain done when it returns."""
    steps = rogue_plan(config.rogue, config.seed, config.intents / config.publish_rate + TAIL_S)
    rogue = Rogue(stack.world, stack.settings.ledger_db, watch.scans, steps)
    stop = asyncio.Event()
    scanning = asyncio.create_task(watch.scan_until(stop))
    rogue_acts = asyncio.create_task(rogue.run())
    try:
        sent, drained = await chaos_phase(config, stack, streams, state, progress, spread)
        await rogue_acts
    finally:
        stop.set()
        rogue_acts.cancel()
        # Both end before the watch closes, whatever failed: the rogue's error is raised above.
        await asyncio.gather(rogue_acts, scanning, return_exceptions=True)
    if (error := scanning.exception()) is not None:
        raise error
    await watch.scan()
    progress(f"watch: {watch.scans.count} scans; rogue: {len(rogue.changes)} direct writes")
    return sent, drained, rogue


async def account_doors_of_run(stack: Stack, watch: RunWatch, rogue: Rogue) -> DoorAccounting:
    """Every hub change and every rogue change against the watch's attributions."""
    calls = await write_calls(stack.settings.ledger_db)
    lost = await lost_attempts(stack.settings.ledger_db)
    seen = await watch_changes(stack.settings.ledger_db)
    writes = hub_writes(calls, watch.scanned_tables(), lost)
    return account_doors(writes, seen, rogue.changes, stack.world.database_of,
                         scans=watch.scans.count)


async def run_chaos(config: ChaosConfig, progress: Progress) -> ChaosReport:
    loop = asyncio.get_running_loop()
    started = loop.time()
    world = World.new(offices=config.offices, vendors=config.vendors,
                      databases=config.office_databases)
    progress(f"run {world.run_id}: {config.intents} intents, {config.offices} offices, "
             f"{config.vendors} vendors")
    async with running_stack(config, world, progress) as stack:
        streams = plan(world, config.intents, config.seed)
        state = RunState(planned=sum(len(s) for s in streams), started_at=started)
        async with watching(stack) as watch:
            spread = SpreadWatch(management_url=stack.settings.management_url,
                                 offices=tuple(world.office_ids()), live=stack.writer.live_pids,
                                 started=loop.time(), progress=progress)
            sent, drained, rogue = await watched_chaos_phase(
                config, stack, streams, state, progress, watch, spread
            )
            await stack.writer.stop()
            faults = await stack.simulator.injected()
            progress("accounting from the ledger, hub.dead, Open Dental's tables and the watch")
            accounting = await account_run(stack, sent)
            doors = await account_doors_of_run(stack, watch, rogue)
            order = overtakers(publish_order(sent), await finishes(stack.settings.ledger_db))
        spans = await sheet_fill_spans(stack.settings.ledger_db)
        chaos = Chaos(
            writer_kills=stack.writer.kills, writer_starts=stack.writer.starts,
            writer_own_exits=tuple(stack.writer.own_exits),
            broker_restarts=state.broker_restarts, faults_injected=faults, drained=drained,
            kills_inside_sheet_fill=kills_inside(stack.writer.kill_times, spans),
        )
    fleet = SpreadFigures(writers=config.writers, joined=int(config.join_at_s is not None),
                          changes=tuple(spread.settled))
    return ChaosReport(run_id=world.run_id, options=config.options(),
                       elapsed_s=loop.time() - started, accounting=accounting, chaos=chaos,
                       doors=doors, spread=fleet, out_of_order=order)
