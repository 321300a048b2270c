"""ceiling: how fast the hub goes when nothing holds it back, beside the least any consumer
must do, in the same run on the same broker and simulator.

Service mode (no pacing, no throttle), no added latency, many offices. The hub: a backlog of
patient.create intents is published first, then the writer starts and applies them; its rate
and its CPU per intent are taken between the 10% and 90% completion marks (outcome events as
they arrive). The reference (reference.py, its own process): as many plain POST bodies in as
many quorum queues, consume → POST → ack, measured between the same marks.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

import aio_pika
from yarl import URL

from hub.broker_admin import management_api
from hub.settings import ApiMode, HubSettings
from lab.bench.config import CeilingOptions
from lab.bench.declare import declare_queues, plain_quorum_queues
from lab.bench.procs import (
    VENDOR_NICENESS,
    cpu_marks,
    cpu_us_each,
    listening_pid,
    start_child,
    yielding_cpu,
)
from lab.bench.profile import breakdown, sample
from lab.bench.reference import RESULT_PREFIX, ReferenceResult, ReferenceSpec
from lab.bench.report import CeilingResult, CeilingRound
from lab.bench.stage import Stage, declare_world_queues, running_writer, staged
from lab.bench.stats import steady_bounds, steady_rate
from lab.bench.traffic import (
    BACKLOG_CONCURRENCY,
    CONFIRM_TIMEOUT_S,
    Outcomes,
    patient_body,
    publish_backlog,
    vendor_side,
)
from lab.bench.world import BenchWorld

PROBE_S = 1.0  # how long the rate is watched before py-spy's duration is chosen
PROFILED_SHARE = 0.8  # of the time left to the 90% mark, so py-spy ends inside the window
MIN_RATE_PER_S = 20.0  # a run slower than this is stuck, not slow: give up
SLACK_S = 60.0
REFERENCE_INDEX_BASE = 900_000_000  # the reference's patients' names differ from the hub's
Progress = Callable[[str], None]


def _timeout_s(messages: int) -> float:
    return messages / MIN_RATE_PER_S + SLACK_S


async def run_ceiling(
    settings: HubSettings,
    options: CeilingOptions,
    workdir: Path,
    progress: Progress,
    writer_env: dict[str, str],
) -> CeilingResult:
    world = BenchWorld.new(offices=options.offices, mode=ApiMode.SERVICE)
    per_office = options.intents // options.offices
    hubs: list[_HubRun] = []
    references: list[ReferenceResult] = []
    async with staged(world, settings, workdir, progress) as stage:
        for number in range(options.rounds):
            first = number * per_office  # every round's patients and keys are new ones
            for hub_turn in (True, False) if number % 2 == 0 else (False, True):
                if hub_turn:
                    if hubs:  # the last writer's run removed the queues
                        await declare_world_queues(stage.settings, stage.world)
                    profile = options.profile and not hubs  # py-spy in the first round only
                    hub = await _hub(stage, per_office, first, writer_env, progress, profile)
                    progress(f"ceiling: hub {hub.per_s:.1f} intents/s, writer "
                             f"{hub.cpu_us:,.0f} µs CPU each")
                    hubs.append(hub)
                else:
                    reference = await _reference(stage, per_office, first, writer_env, progress)
                    progress(f"ceiling: reference {reference.per_s:.1f} messages/s")
                    references.append(reference)
    return _result(options, per_office, hubs, references)


def _result(
    options: CeilingOptions,
    per_office: int,
    hubs: list[_HubRun],
    references: list[ReferenceResult],
) -> CeilingResult:
    """Rates and CPU as means over the rounds; the ratio of the mean rates."""
    hub_per_s = fmean(hub.per_s for hub in hubs)
    reference_per_s = fmean(reference.per_s for reference in references)
    hub_cpu_us = fmean(hub.cpu_us for hub in hubs)
    writer_cpu_us = [hub.cpu_us_by_process for hub in hubs]
    reference_cpu_us = [reference.cpu_us_by_process for reference in references]
    return CeilingResult(
        offices=options.offices,
        intents=per_office * options.offices,
        rounds=[
            CeilingRound(hub_per_s=round(hub.per_s, 1), reference_per_s=reference.per_s)
            for hub, reference in zip(hubs, references, strict=True)
        ],
        hub_per_s=round(hub_per_s, 1),
        reference_per_s=round(reference_per_s, 1),
        ratio=round(hub_per_s / reference_per_s, 3) if reference_per_s else 0.0,
        writer_cpu_us_per_intent=round(hub_cpu_us, 1),
        reference_cpu_us_per_message=round(
            fmean(reference.cpu_us_per_message for reference in references), 1
        ),
        unaccounted=sum(hub.unaccounted for hub in hubs),
        not_applied=sum(hub.not_applied for hub in hubs),
        reference_errors=sum(reference.errors for reference in references),
        writer_us_by_step=breakdown(hubs[0].profile, hubs[0].cpu_us),
        hub_cpu_us_by_process=_mean_each(writer_cpu_us),
        reference_cpu_us_by_process=_mean_each(reference_cpu_us),
    )


def _mean_each(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Per process, the mean over the rounds that measured it."""
    names = dict.fromkeys(name for one in rounds for name in one)
    return {
        name: round(fmean(one[name] for one in rounds if name in one), 1) for name in names
    }


def _neighbours(stage: Stage) -> dict[str, int]:
    """The processes the writer or the reference makes work, by the port each listens on:
    the simulator, MariaDB and RabbitMQ (the first broker of the URL; one found on no port, a
    broker elsewhere, is left out); and this process, the vendors' side (in the hub's phase it
    reads the outcomes), which a real vendor would not run on the hub's cores."""
    ports = {
        "simulator": URL(stage.sim_root).port,
        "mariadbd": stage.settings.ledger_db.port,
        "rabbitmq": URL(stage.settings.broker_url.get_secret_value().split(",")[0]).port,
    }
    found = {name: listening_pid(port) for name, port in ports.items() if port is not None}
    return {**{name: pid for name, pid in found.items() if pid is not None}, "bench": os.getpid()}


@dataclass(frozen=True, kw_only=True)
class _HubRun:
    per_s: float  # decisions per second between the steady marks
    cpu_us: float  # the writer's CPU per intent between them
    cpu_us_by_process: dict[str, float]  # the same for each process the run makes work
    unaccounted: int
    not_applied: int  # outcomes other than applied (there should be none)
    profile: str  # py-spy's raw samples of the writer, or "" when not asked for


async def _hub(
    stage: Stage,
    per_office: int,
    first: int,
    writer_env: dict[str, str],
    progress: Progress,
    profile: bool,
) -> _HubRun:
    world, settings = stage.world, stage.settings
    async with (
        vendor_side(settings.broker_url, world, stage.vendor_urls) as (channel, link),
    ):
        outcomes = Outcomes()
        await outcomes.consume(channel, world)
        published = await publish_backlog(
            link, world, tag="c", per_office=per_office, first_sequence=first
        )
        progress(f"ceiling: {len(published)} intents waiting; starting the writer")
        total = len(published)
        low, high = steady_bounds(total)
        async with running_writer(stage, writer_env) as writer:
            watched = {"writer": writer.child.pid, **_neighbours(stage)}
            with yielding_cpu(VENDOR_NICENESS):  # the outcome reader stands in for vendors
                await outcomes.reach(low, _timeout_s(total))
                cpu_low = cpu_marks(watched)
                out = stage.workdir / "writer-profile.txt"
                spying = _spy(writer.child.pid, outcomes, high, out) if profile else _nothing()
                profiled = asyncio.ensure_future(spying)
                await outcomes.reach(high, _timeout_s(total))
                cpu_high = cpu_marks(watched)
                raw = await profiled
                with suppress(TimeoutError):  # what is missing is reported as unaccounted
                    await outcomes.reach(total, _timeout_s(total - high))
            await outcomes.stop()
    cpu_us = cpu_us_each(cpu_low, cpu_high, high - low)
    # The rate from the writer's own decision times: the reader's lag does not enter it.
    decisions = [d for _, d in outcomes.of(published)]
    return _HubRun(
        per_s=steady_rate([d.decided_at for d in decisions]),
        cpu_us=cpu_us["writer"],
        cpu_us_by_process=cpu_us,
        unaccounted=total - len(decisions),
        not_applied=sum(d.status != "applied" for d in decisions),
        profile=raw,
    )


async def _nothing() -> str:
    return ""


async def _spy(pid: int, outcomes: Outcomes, high: int, out: Path) -> str:
    """py-spy on the writer from now until about the high mark; its raw samples."""
    seen, started = len(outcomes.decided), time.monotonic()
    await asyncio.sleep(PROBE_S)
    rate = (len(outcomes.decided) - seen) / (time.monotonic() - started)
    seconds = PROFILED_SHARE * (high - len(outcomes.decided)) / max(rate, 1.0)
    await (await sample(pid, seconds, out)).wait()
    return await asyncio.to_thread(_read_if_any, out)


def _read_if_any(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def _delete_reference_queues(settings: HubSettings, world: BenchWorld) -> None:
    async with management_api(settings) as api:
        for name in world.reference_queues():
            await api.delete_queue(name)


@asynccontextmanager
async def _reference_queues(settings: HubSettings, world: BenchWorld) -> AsyncIterator[None]:
    """The reference's quorum queues (like the office queues), deleted on exit."""
    try:
        await declare_queues(settings, plain_quorum_queues(world.reference_queues()))
        yield
    finally:
        await _delete_reference_queues(settings, world)


async def _reference(
    stage: Stage, per_office: int, first: int, writer_env: dict[str, str], progress: Progress
) -> ReferenceResult:
    world, settings = stage.world, stage.settings
    async with _reference_queues(settings, world):
        total = await _publish_reference(settings, world, per_office, first)
        progress(f"ceiling: {total} reference messages waiting; starting the reference loop")
        spec = ReferenceSpec(
            broker_url=settings.broker_url.get_secret_value(),
            queues=world.reference_queues(),
            url=f"{stage.sim_api}/patients",
            authorization=_authorization(stage),
            prefetch=settings.writer.prefetch,
            connections=settings.writer.http_connections,
            expect=total,
            timeout_s=_timeout_s(total),
            neighbours=_neighbours(stage),
        )
        return await _run_reference(stage, spec, writer_env)


def _authorization(stage: Stage) -> str:
    developer = stage.settings.od_developer_key.get_secret_value()
    return f"ODFHIR {developer}/{stage.world.customer_key(1)}"


async def _publish_reference(
    settings: HubSettings, world: BenchWorld, per_office: int, first: int
) -> int:
    limit = asyncio.Semaphore(BACKLOG_CONCURRENCY)
    connection = await aio_pika.connect(settings.broker_url.get_secret_value())
    async with connection:
        channel = await connection.channel(publisher_confirms=True)

        async def one(number: int, sequence: int) -> None:
            body = patient_body(world, REFERENCE_INDEX_BASE + number * 100_000 + sequence)
            message = aio_pika.Message(json.dumps(body).encode("utf-8"),
                                       delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            async with limit:
                await channel.default_exchange.publish(
                    message, world.reference_queue(number), mandatory=True,
                    timeout=CONFIRM_TIMEOUT_S,
                )

        sequences = range(first, first + per_office)
        await asyncio.gather(*(one(n, s) for s in sequences for n in range(1, world.offices + 1)))
    return per_office * world.offices


async def _run_reference(
    stage: Stage, spec: ReferenceSpec, writer_env: dict[str, str]
) -> ReferenceResult:
    spec_path = stage.workdir / "reference.json"
    await asyncio.to_thread(spec_path.write_text, spec.model_dump_json())
    argv = [sys.executable, "-m", "lab.bench.reference", str(spec_path)]
    child = await start_child("the reference loop", argv, {**stage.env, **writer_env},
                              stage.workdir / "reference.log")
    try:
        await child.wait_for_line(RESULT_PREFIX, spec.timeout_s + SLACK_S)
    finally:
        await _delete_reference_queues(stage.settings, stage.world)
        await child.stop()
    log = await asyncio.to_thread(_read_if_any, child.log_path)  # whole: warnings may follow
    lines = [line for line in log.splitlines() if line.startswith(RESULT_PREFIX)]
    return ReferenceResult(**json.loads(lines[-1].removeprefix(RESULT_PREFIX)))

