"""fleet: K offices in remote mode, one request a second each, at offered loads below, at and
above the allowance, one load after the other on the same world and writers (one by default;
with several, lab/bench/writers.py starts them and waits for the offices to settle over them).

Each load publishes for T seconds, then waits until every intent it published has an outcome,
so the next load starts from empty queues. applied/s counts the outcomes whose ``decided_at``
falls in the steady window (after the warm-up, before the end of publishing), and each writer's
CPU time and decisions are read at the window's two ends; the throttle
replies are the simulator's own count of 429s across the load and its drain, and apart, from
the first minute of the load on (``throttle_warmup_s``), per minute and as a share of the requests.
The simulator runs with the options' network legs and throttle reading.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp

from hub.settings import ApiMode, HubSettings
from lab.bench.config import ALLOWANCE_PER_S, BenchError, FleetOptions
from lab.bench.databases import ledger_footprint
from lab.bench.procs import VENDOR_NICENESS, machine_times, yielding_cpu
from lab.bench.report import FleetResult, LoadResult
from lab.bench.scraping import Scrapes, scraping
from lab.bench.stage import Stage, WriterProcess, staged
from lab.bench.stats import percentile
from lab.bench.traffic import Outcomes, Published, VendorLinks, publish_paced, vendor_side
from lab.bench.world import BenchWorld
from lab.bench.writers import (
    WriterLoad,
    WriterSample,
    idle_cpu_shares,
    ledger_queries_per_intent,
    read_samples,
    running_writers,
    writer_loads,
)

APPLIED = "applied"
DRAIN_SLACK_S = 60.0  # beyond the backlog's own time at the allowance
Progress = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class ThrottleCounters:
    """The simulator's throttle counters (``GET /admin/throttle``), or their growth between two
    readings."""

    rejected: int
    passed: int  # let through at once
    busy_gaps: int  # starts on a key that was kept busy
    busy_gap_s: float  # their gaps from the key's previous start, summed
    handled: int  # throttled requests run after taking their slot
    handling_s: float  # their times from the slot to the end of the handler, summed

    def since(self, earlier: ThrottleCounters) -> ThrottleCounters:
        return ThrottleCounters(
            rejected=self.rejected - earlier.rejected,
            passed=self.passed - earlier.passed,
            busy_gaps=self.busy_gaps - earlier.busy_gaps,
            busy_gap_s=self.busy_gap_s - earlier.busy_gap_s,
            handled=self.handled - earlier.handled,
            handling_s=self.handling_s - earlier.handling_s,
        )

    @property
    def mean_gap_s(self) -> float | None:
        return self.busy_gap_s / self.busy_gaps if self.busy_gaps else None

    @property
    def mean_handling_s(self) -> float | None:
        return self.handling_s / self.handled if self.handled else None

    @property
    def rejected_share(self) -> float | None:
        asked = self.rejected + self.passed
        return self.rejected / asked if asked else None


async def read_throttle(stage: Stage) -> ThrottleCounters:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{stage.sim_root}/admin/throttle") as response,
    ):
        counts = await response.json()
    return ThrottleCounters(
        rejected=int(counts["rejected"]),
        passed=int(counts["passed"]),
        busy_gaps=int(counts["busy_gaps"]),
        busy_gap_s=float(counts["busy_gap_s"]),
        handled=int(counts["handled"]),
        handling_s=float(counts["handling_s"]),
    )


async def run_fleet(
    settings: HubSettings,
    options: FleetOptions,
    workdir: Path,
    progress: Progress,
    writer_env: dict[str, str],
) -> FleetResult:
    world = BenchWorld.new(offices=options.offices, mode=ApiMode.REMOTE)
    results: list[LoadResult] = []
    async with (
        staged(world, settings, workdir, progress, options.sim_args()) as stage,
        running_writers(stage, writer_env, options.writers) as writers,
        vendor_side(settings.broker_url, world, stage.vendor_urls) as (channel, link),
    ):
        outcomes = Outcomes()
        await outcomes.consume(channel, world)
        fleet = (writers, await idle_cpu_shares(writers, options.idle_s))
        for load in options.loads:
            progress(f"fleet: offered load {load:g} × the allowance for {options.seconds:g} s")
            with yielding_cpu(VENDOR_NICENESS):
                results.append(await _one_load(stage, fleet, link, outcomes, options, load))
            progress(_summary(results[-1]))
        ledger = await ledger_footprint(settings.ledger_db, world.ledger_database)
    return FleetResult(
        offices=options.offices, writers=options.writers, seconds=options.seconds,
        warmup_s=options.warmup_s,
        allowance_per_s=options.offices * ALLOWANCE_PER_S, loads=tuple(results),
        publisher_niceness=VENDOR_NICENESS, scrape_interval_s=options.scrape_interval_s,
        rtt_ms=options.rtt_ms, jitter_ms=options.jitter_ms,
        throttle_reading=options.throttle_reading.value, ledger=ledger,
    )


async def _one_load(
    stage: Stage, fleet: tuple[tuple[WriterProcess, ...], tuple[float, ...]], link: VendorLinks,
    outcomes: Outcomes, options: FleetOptions, load: float,
) -> LoadResult:
    world = stage.world
    writers, idle = fleet
    throttle_before = await read_throttle(stage)
    seen_before = len(outcomes.decided)
    warmed = asyncio.create_task(_read_throttle_after(stage, options.throttle_warmup_s))
    window_opens = asyncio.create_task(_samples_after(writers, options.warmup_s))
    async with scraping([w.metrics_url for w in writers], options.scrape_interval_s) as scrapes:
        started_at = time.time()
        times_before = machine_times()
        published = await publish_paced(
            link, world, tag=f"x{load:g}", per_office_per_s=load * ALLOWANCE_PER_S,
            seconds=options.seconds,
        )
        window = (await window_opens, await read_samples(writers))
        window_s = time.time() - started_at - options.warmup_s
        busy = machine_times().busy_share_since(times_before)
        drain_s = len(published) / (world.offices * ALLOWANCE_PER_S) + DRAIN_SLACK_S
        with suppress(TimeoutError):  # what is missing is reported as unaccounted
            await outcomes.reach(seen_before + len(published), drain_s)
    ended = await read_throttle(stage)
    after_warm_up = await _since_warm_up(warmed, ended)
    result = _result(
        options, world, load, published, outcomes, started_at,
        (ended.since(throttle_before), after_warm_up), scrapes, busy,
    )
    return replace(
        result, per_writer=writer_loads(writers, world.offices, idle, *window, window_s),
        ledger_queries_per_intent=ledger_queries_per_intent(*window),
    )


async def _samples_after(
    writers: tuple[WriterProcess, ...], seconds: float
) -> tuple[WriterSample, ...]:
    await asyncio.sleep(seconds)
    return await read_samples(writers)


@dataclass(frozen=True, kw_only=True)
class _AfterWarmUp:
    counters: ThrottleCounters
    minutes: float


async def _read_throttle_after(stage: Stage, seconds: float) -> tuple[ThrottleCounters, float]:
    await asyncio.sleep(seconds)
    return await read_throttle(stage), time.monotonic()


async def _since_warm_up(
    warmed: asyncio.Task[tuple[ThrottleCounters, float]], ended: ThrottleCounters
) -> _AfterWarmUp | None:
    """The throttle's counts from the end of the warm-up to the end of the load's drain, or
    None when the load ended inside its warm-up."""
    if not warmed.done():
        warmed.cancel()
        with suppress(asyncio.CancelledError):
            await warmed
        return None
    at_warm_up, warm_at = warmed.result()
    return _AfterWarmUp(
        counters=ended.since(at_warm_up), minutes=(time.monotonic() - warm_at) / 60
    )


def _result(
    options: FleetOptions, world: BenchWorld, load: float, published: list[Published],
    outcomes: Outcomes, started_at: float,
    throttles: tuple[ThrottleCounters, _AfterWarmUp | None], scrapes: Scrapes, busy: float,
) -> LoadResult:
    throttle, after_warm_up = throttles
    decided = outcomes.of(published)
    applied = [(p, d) for p, d in decided if d.status == APPLIED]
    window_start, window_end = started_at + options.warmup_s, started_at + options.seconds
    in_window = sum(1 for _, d in applied if window_start <= d.decided_at < window_end)
    applied_per_s = in_window / (window_end - window_start)
    allowance_per_s = world.offices * ALLOWANCE_PER_S
    latencies = sorted(d.decided_at - p.at for p, d in applied)
    if not published:
        raise BenchError("the fleet published nothing: is the duration shorter than a period?")
    return LoadResult(
        load=load,
        offered_per_s=round(allowance_per_s * load, 3),
        published=len(published),
        applied_per_s=round(applied_per_s, 2),
        applied_ratio=round(applied_per_s / allowance_per_s, 4),
        throttle_replies=throttle.rejected,
        throttle_replies_per_min=(
            None if after_warm_up is None
            else round(after_warm_up.counters.rejected / after_warm_up.minutes, 2)
        ),
        throttle_reply_share=(
            None if after_warm_up is None else _rounded(after_warm_up.counters.rejected_share, 5)
        ),
        p50_s=round(percentile(latencies, 50), 3),
        p95_s=round(percentile(latencies, 95), 3),
        p99_s=round(percentile(latencies, 99), 3),
        not_applied=len(decided) - len(applied),
        unaccounted=len(published) - len(decided),
        machine_busy=round(busy, 3),
        slot_gap_s=_rounded(throttle.mean_gap_s, 4),
        sim_handling_s=_rounded(throttle.mean_handling_s, 4),
        scrapes=scrapes.answered,
        scrape_failures=scrapes.failed,
        scrape_s=_rounded(scrapes.mean_s, 3),
    )


def _or_none(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _summary(result: LoadResult) -> str:
    return (
        f"fleet: load {result.load:g}: {result.applied_per_s:.1f} applied/s "
        f"({result.applied_ratio:.1%} of the allowance), {result.throttle_replies} throttle "
        f"replies ({_or_none(result.throttle_replies_per_min)} a minute after the first), "
        f"p99 {result.p99_s:.2f} s, {result.unaccounted} unaccounted, machine "
        f"{result.machine_busy:.0%} busy, {result.scrapes} scrapes of the writers "
        f"({result.scrape_failures} failed); " + "; ".join(map(_writer_summary, result.per_writer))
    )


def _writer_summary(writer: WriterLoad) -> str:
    return (
        f"writer {writer.writer}: {writer.offices_owned} offices, {writer.decided} decided, "
        f"{_or_none(writer.cpu_ms_per_intent)} ms CPU each"
    )
