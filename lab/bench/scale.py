"""scale: the writer with a thousand offices configured: how long it takes to start (spawn →
every office queue consumed, as it logs) and how much memory it holds, once started and after
one intent for every office (so every lane, and the HTTP pool, has worked once)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from hub.settings import ApiMode, HubSettings
from lab.bench.config import ScaleOptions
from lab.bench.procs import memory_mb
from lab.bench.report import ScaleResult
from lab.bench.stage import running_writer, staged
from lab.bench.traffic import Outcomes, publish_backlog, vendor_side
from lab.bench.world import BenchWorld

SETTLE_S = 1.0  # after start-up, before memory is read
MIN_RATE_PER_S = 10.0
SLACK_S = 60.0
Progress = Callable[[str], None]


async def run_scale(
    settings: HubSettings,
    options: ScaleOptions,
    workdir: Path,
    progress: Progress,
    writer_env: dict[str, str],
) -> ScaleResult:
    world = BenchWorld.new(offices=options.offices, mode=ApiMode.SERVICE)
    async with (
        staged(world, settings, workdir, progress) as stage,
        vendor_side(settings.broker_url, world, stage.vendor_urls) as (channel, link),
    ):
        outcomes = Outcomes()
        await outcomes.consume(channel, world)
        async with running_writer(stage, writer_env) as writer:
            progress(f"scale: the writer consumed {world.offices} queues "
                     f"{writer.startup_s:.1f} s after its start")
            await asyncio.sleep(SETTLE_S)
            rss_idle_mb, _ = memory_mb(writer.child.pid)
            published = await publish_backlog(link, world, tag="s", per_office=1)
            with suppress(TimeoutError):  # what is missing is reported as unaccounted
                await outcomes.reach(len(published), len(published) / MIN_RATE_PER_S + SLACK_S)
            rss_mb, peak_mb = memory_mb(writer.child.pid)
            await outcomes.stop()
    return ScaleResult(
        offices=options.offices,
        startup_s=round(writer.startup_s, 2),
        rss_mb=round(rss_mb, 1),
        rss_idle_mb=round(rss_idle_mb, 1),
        peak_rss_mb=round(peak_mb, 1),
        unaccounted=len(published) - len(outcomes.of(published)),
    )
