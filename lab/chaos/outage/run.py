"""One outage run: the common world on a node whose short consumer timeout stands in for days,
the vendors publishing to every office throughout, the timeline acted on it (offices' Open
Dental gone three ways, an office and a vendor paused, an outcome queue deleted), then every
outage over, the writer drained, and the accounting."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from lab.chaos.accounting import Accounting
from lab.chaos.config import ChaosError
from lab.chaos.drain import wait_consumed, wait_drained
from lab.chaos.ledger_rows import Finish, VendorKey, finishes
from lab.chaos.order import publish_order
from lab.chaos.outage.accounting import (
    Applied,
    delivery,
    held_all,
    not_applied,
    out_of_order,
    steady_rates,
)
from lab.chaos.outage.acts import act, switches
from lab.chaos.outage.broker_log import consumer_timeouts
from lab.chaos.outage.config import CHANNEL_TICK_MS, OutageConfig
from lab.chaos.outage.outcomes import OutcomeWatch
from lab.chaos.outage.publishing import Refusals, publish_paced
from lab.chaos.outage.report import OutageFigures, OutageReport
from lab.chaos.outage.timeline import Disruption, Timeline
from lab.chaos.plan import Planned, plan
from lab.chaos.progress import LINE_EVERY_S, Progress, RunState, follow_ledger
from lab.chaos.publishing import Sent
from lab.chaos.rabbit_node import NodeTuning
from lab.chaos.report import Chaos, ChaosReport
from lab.chaos.run import account_run, scripted_vendors
from lab.chaos.stack import Stack, StackShape, running_stack
from lab.chaos.world import World

WRITER_READY_S = 60.0


@dataclass(frozen=True, kw_only=True)
class Phase:
    sent: list[Sent]
    timeline: Timeline  # as it happened
    started_at: datetime  # UTC, when publishing started: offset 0
    received: frozenset[str]  # the queue vendor's intents with an outcome event
    refusals: Refusals
    drained: bool


def _shape(config: OutageConfig, timeline: Timeline) -> StackShape:
    refused = tuple(office for office, (kind, _) in timeline.disrupted.items()
                    if kind is Disruption.CONNECTION_REFUSED)
    tuning = NodeTuning(consumer_timeout_ms=round(config.consumer_timeout_s * 1000),
                        channel_tick_ms=CHANNEL_TICK_MS)
    return StackShape(node=tuning, forwarded=refused, writer_env=config.writer_env())


async def _follow_broker(stack: Stack, progress: Progress) -> None:
    """A line whenever the broker has timed consumers out again."""
    said = 0
    while True:
        await asyncio.sleep(LINE_EVERY_S)
        seen = await consumer_timeouts(stack.node.log_file)
        if seen != said:
            progress(f"broker: {seen} consumer timeouts so far")
            said = seen


async def _publish_and_act(
    config: OutageConfig, stack: Stack, planned: Timeline, streams: Sequence[Sequence[Planned]],
    state: RunState, progress: Progress,
) -> Phase:
    loop = asyncio.get_running_loop()
    refusals: Refusals = Counter()
    vendor = planned.queue_vendor
    async with scripted_vendors(stack) as vendors, \
            OutcomeWatch(vendor, stack.vendor_urls[vendor]) as watch:
        started, started_at = loop.time(), datetime.now(UTC)
        acting = asyncio.create_task(act(planned, switches(stack, planned, watch.consume),
                                         started, progress))
        try:
            sent = await publish_paced(vendors, streams, started=started,
                                       publish_s=planned.publish_s,
                                       give_up_s=config.drain_timeout_s,
                                       tally=state.published, refusals=refusals)
            happened = await acting
        finally:
            acting.cancel()
            with suppress(asyncio.CancelledError):
                await acting
        progress(f"published: {state.published.confirmed} confirmed, "
                 f"{state.published.refused} not confirmed; every outage is over")
        drained = await wait_drained(stack.node.management_url, stack.world.office_ids(),
                                     stack.settings.ledger_db, config.drain_timeout_s)
        progress("drained" if drained else "drain timed out: reporting what is settled")
        return Phase(sent=sent, timeline=happened, started_at=started_at,
                     received=frozenset(watch.received), refusals=refusals, drained=drained)


async def _phase(
    config: OutageConfig, stack: Stack, planned: Timeline, streams: Sequence[Sequence[Planned]],
    state: RunState, progress: Progress,
) -> Phase:
    # The pace before the outages is the writer's, not its start-up's.
    if not await wait_consumed(stack.node.management_url, stack.world.office_ids(),
                               WRITER_READY_S):
        raise ChaosError(f"the writer did not consume the office queues in {WRITER_READY_S} s")
    followers = [
        asyncio.create_task(follow_ledger(state, stack.settings.ledger_db, progress)),
        asyncio.create_task(_follow_broker(stack, progress)),
    ]
    try:
        return await _publish_and_act(config, stack, planned, streams, state, progress)
    finally:
        for task in followers:
            task.cancel()
        for task in followers:
            with suppress(asyncio.CancelledError):
                await task


def _applied(ledger: Mapping[VendorKey, Finish], started_at: datetime) -> dict[VendorKey, Applied]:
    return {
        key: Applied(at_s=(f.finished_at - started_at).total_seconds(), row_id=f.row_id)
        for key, f in ledger.items() if f.status == "applied" and f.finished_at is not None
    }


async def _refused_by_office(stack: Stack) -> dict[str, int]:
    world = stack.world
    office_of = {world.customer_key(n): office
                 for n, office in enumerate(world.office_ids(), start=1)}
    refused = await stack.simulator.refused_by_outages()
    return {office_of[key]: n for key, n in refused.items() if key in office_of}


async def _figures(
    config: OutageConfig, stack: Stack, phase: Phase, accounting: Accounting
) -> OutageFigures:
    ledger = await finishes(stack.settings.ledger_db)
    applied = _applied(ledger, phase.started_at)
    timeline = phase.timeline
    statuses = {key: f.status for key, f in ledger.items()}
    return OutageFigures(
        consumer_timeout_s=config.consumer_timeout_s,
        broker_consumer_timeouts=await consumer_timeouts(stack.node.log_file),
        broker_dead_lettered=accounting.letters_from_broker,
        out_of_order=out_of_order(publish_order(phase.sent), applied),
        held=tuple(held_all(timeline, accounting.ended, applied, config.consumer_timeout_s)),
        rates=steady_rates(timeline, accounting.ended, applied),
        steady_not_applied=not_applied(accounting.ended, timeline.steady),
        delivery=delivery(timeline.queue_vendor, accounting.ended, statuses, phase.received),
        queue_gone=timeline.queue_gone, refused_publishes=dict(phase.refusals),
        refused_by_simulator=await _refused_by_office(stack),
    )


async def run_outage(config: OutageConfig, progress: Progress) -> OutageReport:
    loop = asyncio.get_running_loop()
    begun = loop.time()
    common = config.chaos_config()
    world = World.new(offices=config.offices, vendors=config.vendors,
                      databases=config.office_databases)
    planned = Timeline.draw(world, config)
    progress(f"run {world.run_id}, outages: {common.intents} intents over "
             f"{planned.publish_s:.0f} s to {config.offices} offices from {config.vendors} "
             f"vendors; outages of {config.outage_s:.0f} s on a node whose consumer_timeout "
             f"is {config.consumer_timeout_s:g} s")
    async with running_stack(common, world, progress, _shape(config, planned)) as stack:
        streams = plan(world, common.intents, config.seed)
        state = RunState(planned=sum(len(s) for s in streams), started_at=begun)
        phase = await _phase(config, stack, planned, streams, state, progress)
        await stack.writer.stop()
        progress("accounting from the ledger, hub.dead, Open Dental's tables and the node's log")
        accounting = await account_run(stack, phase.sent)
        figures = await _figures(config, stack, phase, accounting)
        chaos = Chaos(writer_kills=0, writer_starts=stack.writer.starts,
                      writer_own_exits=tuple(stack.writer.own_exits), broker_restarts=0,
                      faults_injected=await stack.simulator.injected(), drained=phase.drained)
    base = ChaosReport(run_id=world.run_id, options=config.options(),
                       elapsed_s=loop.time() - begun, accounting=accounting, chaos=chaos)
    return OutageReport(base=base, outage=figures)
