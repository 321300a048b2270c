"""The fleet's writers: N ``hub worker`` processes over one stage (same registry, same hub
database, each its own metrics port), started one after the other, and settled before any load:
each writer's ``hub_offices_owned`` is the average rounded down or up, and RabbitMQ's management
API shows every office queue with one active consumer, that writer's as many times as it owns.

What a writer cost over a window is read from itself: CPU time from /proc (utime + stime), and
the intents it decided from its own ``hub_intents_finished_total`` (every outcome but
``duplicate``, which repeats an earlier decision). Its own counter, not the ledger: the ledger's
``attempt_writer`` names who began an intent's latest attempt, not who decided it, and is empty
for intents refused before any attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import aiohttp
import httpx
from prometheus_client.parser import text_string_to_metric_families

from hub import names
from hub.broker_connection import WRITER_CONNECTION_PREFIX
from hub.settings import HubSettings
from lab.bench.procs import HUB_ARGV, cpu_seconds, memory_mb, start_child
from lab.bench.stage import (
    WRITER_READY_TIMEOUT_S,
    Stage,
    WriterProcess,
    free_port,
    remove_queues,
    writer_env,
)

SETTLE_POLL_S = 1.0  # the management API's figures move every few seconds anyway
SETTLE_TIMEOUT_S = 180.0
READY_LINE = " office queue(s)"  # "consuming N office queue(s)": the writer's lanes have begun
NOT_DECIDED = "duplicate"  # an outcome label that repeats a decision made before


@dataclass(frozen=True, kw_only=True)
class WriterSample:
    """One writer's counters at one moment."""

    cpu_s: float
    decided: float  # hub_intents_finished_total, duplicates left out
    owned: int  # hub_offices_owned
    ledger_queries: Mapping[str, float]  # hub_ledger_query_duration_seconds counts, by query


@dataclass(frozen=True, kw_only=True)
class WriterLoad:
    """What one writer did over a load's steady window."""

    writer: int  # 1..N, in the order started
    pid: int
    offices_owned: int  # at the window's end
    share: float  # of the offices
    cpu_s: float  # over the window
    decided: int  # intents it decided over the window
    cpu_ms_per_intent: float | None  # None when it decided none
    # Its CPU share of one core while settled and idle before the first load (heartbeats, polls,
    # lane timers), and the CPU per intent once that idle cost is taken out of the window's:
    # the figure that scales with intents when a run decides few of them.
    idle_cpu_share: float
    marginal_cpu_ms_per_intent: float | None
    rss_mb: float  # VmRSS at the window's end


async def read_sample(session: aiohttp.ClientSession, writer: WriterProcess) -> WriterSample:
    cpu_s = cpu_seconds(writer.child.pid)
    async with session.get(writer.metrics_url) as response:
        text = await response.text()
    decided, owned = 0.0, 0
    queries: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "hub_intents_finished_total":
                decided += 0 if sample.labels.get("outcome") == NOT_DECIDED else sample.value
            elif sample.name == "hub_offices_owned":
                owned = int(sample.value)
            elif sample.name == "hub_ledger_query_duration_seconds_count":
                query = sample.labels.get("query", "?")
                queries[query] = queries.get(query, 0.0) + sample.value
    return WriterSample(cpu_s=cpu_s, decided=decided, owned=owned, ledger_queries=queries)


async def read_samples(writers: tuple[WriterProcess, ...]) -> tuple[WriterSample, ...]:
    async with aiohttp.ClientSession() as session:
        return tuple(await asyncio.gather(*(read_sample(session, w) for w in writers)))


async def idle_cpu_shares(
    writers: tuple[WriterProcess, ...], seconds: float
) -> tuple[float, ...]:
    """Each writer's CPU share of one core over ``seconds`` of no load."""
    before = [cpu_seconds(w.child.pid) for w in writers]
    started_at = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed_s = time.monotonic() - started_at
    after = [cpu_seconds(w.child.pid) for w in writers]
    return tuple((end - start) / elapsed_s for start, end in zip(before, after, strict=True))


def writer_loads(
    writers: tuple[WriterProcess, ...], offices: int, idle_shares: tuple[float, ...],
    before: tuple[WriterSample, ...], after: tuple[WriterSample, ...], window_s: float,
) -> tuple[WriterLoad, ...]:
    loads = []
    rows = zip(writers, idle_shares, before, after, strict=True)
    for number, (writer, idle, start, end) in enumerate(rows, 1):
        cpu_s, decided = end.cpu_s - start.cpu_s, round(end.decided - start.decided)
        marginal_s = cpu_s - idle * window_s
        loads.append(WriterLoad(
            writer=number, pid=writer.child.pid, offices_owned=end.owned,
            share=round(end.owned / offices, 4), cpu_s=round(cpu_s, 3), decided=decided,
            cpu_ms_per_intent=round(1000 * cpu_s / decided, 3) if decided else None,
            idle_cpu_share=round(idle, 4),
            marginal_cpu_ms_per_intent=round(1000 * marginal_s / decided, 3) if decided else None,
            rss_mb=round(memory_mb(writer.child.pid)[0], 1),
        ))
    return tuple(loads)


def ledger_queries_per_intent(
    before: tuple[WriterSample, ...], after: tuple[WriterSample, ...]
) -> dict[str, float]:
    """Every writer's ledger queries over the window (hub_ledger_query_duration_seconds counts:
    a group-committed unit is one, whatever its statements), by name, per intent decided."""
    decided = sum(end.decided - start.decided for start, end in zip(before, after, strict=True))
    totals: dict[str, float] = {}
    for start, end in zip(before, after, strict=True):
        for query, count in end.ledger_queries.items():
            grown = count - start.ledger_queries.get(query, 0.0)
            totals[query] = totals.get(query, 0.0) + grown
    if not decided:
        return {}
    return {query: round(count / decided, 3) for query, count in sorted(totals.items()) if count}


@asynccontextmanager
async def running_writers(
    stage: Stage, extra_env: Mapping[str, str], count: int
) -> AsyncIterator[tuple[WriterProcess, ...]]:
    """``count`` writers on the stage, started one after the other, yielded once settled. As
    they stop, the world's queues are removed first (as ``running_writer`` does)."""
    started: list[WriterProcess] = []
    try:
        for number in range(1, count + 1):
            started.append(await _start(stage, extra_env, number))
        await _settled(stage.settings, stage.world.office_ids(), tuple(started))
        yield tuple(started)
    finally:
        try:
            await remove_queues(stage.settings, stage.world)
        finally:  # a management API that did not answer must not leave writers running
            codes = await asyncio.gather(*(w.child.stop() for w in started))
    failed = [w for w, code in zip(started, codes, strict=True) if code != 0]
    if failed:  # only reached when the measurement itself went well
        raise failed[0].child.failure("did not drain cleanly on SIGTERM")


async def _start(stage: Stage, extra_env: Mapping[str, str], number: int) -> WriterProcess:
    log_path = stage.workdir / f"writer-{number}-{time.monotonic_ns()}.log"
    env = writer_env(stage, extra_env, free_port())
    child = await start_child(f"hub worker {number}", [*HUB_ARGV, "worker"], env, log_path)
    metrics_url = f"http://{env['HUB_METRICS_HOST']}:{env['HUB_METRICS_PORT']}/metrics"
    try:
        ready_at = await child.wait_for_line(READY_LINE, WRITER_READY_TIMEOUT_S)
    except BaseException:
        await child.stop()
        raise
    return WriterProcess(
        child=child, startup_s=ready_at - child.started_at, metrics_url=metrics_url
    )


async def _settled(
    settings: HubSettings, offices: list[str], writers: tuple[WriterProcess, ...]
) -> None:
    give_up_at = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < give_up_at:
        samples = await read_samples(writers)
        owned = [sample.owned for sample in samples]
        if sum(owned) == len(offices) and max(owned) - min(owned) <= 1:
            active = await _active_by_pid(settings, offices)
            if active == {w.child.pid: n for w, n in zip(writers, owned, strict=True) if n}:
                return
        await asyncio.sleep(SETTLE_POLL_S)
    raise writers[0].child.failure(
        f"the offices never settled over {len(writers)} writer(s) (owned {owned})"
    )


async def _active_by_pid(settings: HubSettings, offices: list[str]) -> dict[int, int] | None:
    """Writer pid → office queues it is the active consumer of; None while an office has no
    active consumer or more than one (or the management API has not described a channel)."""
    auth = (settings.management_user, settings.management_password.get_secret_value())
    async with httpx.AsyncClient(base_url=settings.management_url, auth=auth) as http:
        consumers = (await http.get("/api/consumers/%2F")).raise_for_status().json()
        connections = (await http.get("/api/connections")).raise_for_status().json()
    pids = {}
    for each in connections:
        name = (each.get("client_properties") or {}).get("connection_name") or ""
        if name.startswith(WRITER_CONNECTION_PREFIX):
            with suppress(IndexError, ValueError):
                pids[each["name"]] = int(name.removeprefix(WRITER_CONNECTION_PREFIX).split(":")[1])
    queues = {names.office_queue(office) for office in offices}
    per_queue: Counter[str] = Counter()
    per_pid: Counter[int] = Counter()
    for consumer in consumers:
        details = consumer.get("channel_details") or {}
        if consumer["queue"]["name"] in queues and consumer.get("active"):
            per_queue[consumer["queue"]["name"]] += 1
            connection = details.get("connection_name") if isinstance(details, dict) else None
            per_pid[pids.get(connection or "", 0)] += 1
    if len(per_queue) != len(queues) or max(per_queue.values()) != 1:
        return None
    return dict(per_pid)
