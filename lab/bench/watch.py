"""watch: what ``hub watch`` costs the offices' Open Dental databases (issue 19's benchmark).

The offices' databases are built or kept (lab/bench/watch_offices.py); ``hub watch`` runs as a
child process on a registry of them, read through the simulator's SELECT-only account, with a
new hub database, at its default settings unless ``WatchOptions.env`` says otherwise. Once every
office has had its first scan (which starts from "now": the history is not news), the measured
span opens: the front desks make their changes over the window (lab/bench/front_desk.py), then
the watch is given until it has attributed as many changes as were made (a few intervals at
most). The span closes there, and its counters (lab/bench/watch_load.py) give queries per
second, the query time percentiles and the rows read per change.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import aiomysql

from hub.settings import HubSettings, MySqlSettings, WatchSettings
from lab.bench.config import WatchOptions
from lab.bench.databases import ledger_database
from lab.bench.files import OD_DATABASE, OD_READONLY_PASSWORD
from lab.bench.front_desk import UPDATES, ChangeKind, play, schedule
from lab.bench.procs import HUB_ARGV, Child, cpu_seconds, memory_mb, start_child
from lab.bench.report import WatchResult
from lab.bench.stage import free_port
from lab.bench.watch_load import (
    ServerCounters,
    WatchCounters,
    bucket_quantile,
    server_counters,
    server_room,
    watch_counters,
)
from lab.bench.watch_offices import (
    OfficeData,
    WatchOffice,
    connect,
    ready_offices,
    watch_offices,
)
from lab.world_config import registry_toml

READY_TIMEOUT_S = 120.0  # the watch's start: a read-only pool per office, the metrics endpoint
FIRST_SCAN_TIMEOUT_S = 300.0
CATCH_UP_INTERVALS = 3  # the last change is attributed within about one interval
CATCH_UP_SLACK_S = 60.0
POLL_S = 1.0
UNUSED_API_URL = "http://127.0.0.1:9/api/v1"  # the watch reads the databases, never the API
Progress = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Reading:
    """Every counter at one moment."""

    at: float  # time.monotonic()
    server: ServerCounters
    watch: WatchCounters
    cpu_s: float  # the watch process's


def watch_settings(settings: HubSettings, env: Mapping[str, str]) -> WatchSettings:
    """The watch's settings as its process reads them: the bench's, and the extra variables."""
    prefix = "HUB_WATCH__"
    extra = {name.removeprefix(prefix).lower(): value
             for name, value in env.items() if name.startswith(prefix)}
    return WatchSettings.model_validate({**settings.watch.model_dump(), **extra})


def _environment(
    offices: Sequence[WatchOffice], registry: Path, hub_db: MySqlSettings, extra: Mapping[str, str]
) -> dict[str, str]:
    return {
        **os.environ,
        **{office.key_variable: office.customer_key for office in offices},
        OD_DATABASE.password_env: OD_READONLY_PASSWORD,
        "HUB_REGISTRY_PATH": str(registry),
        "HUB_LEDGER_DB__DATABASE": hub_db.database,
        "HUB_LOG_FORMAT": "json",
        "HUB_METRICS_HOST": "127.0.0.1",
        "HUB_WATCH__METRICS_PORT": str(free_port()),
        "HUB_WATCH__EVENTS_PORT": "0",
        **extra,
    }


@asynccontextmanager
async def running_watch(
    offices: Sequence[WatchOffice], hub_db: MySqlSettings, workdir: Path, extra: Mapping[str, str]
) -> AsyncIterator[tuple[Child, str]]:
    """``hub watch`` on the offices; the child and its /metrics URL."""
    registry = workdir / "registry.toml"
    registry.write_text(registry_toml(
        api_url=UNUSED_API_URL, mode="service", database=OD_DATABASE,
        offices=[office.generated() for office in offices], agreements={}, contracts=(),
    ), encoding="utf-8")
    env = _environment(offices, registry, hub_db, extra)
    log_path = workdir / f"watch-{time.monotonic_ns()}.log"
    child = await start_child("hub watch", [*HUB_ARGV, "watch"], env, log_path)
    try:
        await child.wait_for_line(f"hub watch: {len(offices)} offices", READY_TIMEOUT_S)
        yield child, f"http://127.0.0.1:{env['HUB_WATCH__METRICS_PORT']}/metrics"
    finally:
        code = await child.stop()
    if code != 0:
        raise child.failure("did not stop cleanly on SIGTERM")


async def _first_scans(
    session: aiohttp.ClientSession, url: str, child: Child, offices: int
) -> None:
    """Until every office's first scan is over (its interval gauge is set after each scan)."""
    give_up_at = time.monotonic() + FIRST_SCAN_TIMEOUT_S
    while time.monotonic() < give_up_at and child.process.returncode is None:
        if len((await watch_counters(session, url)).intervals) >= offices:
            return
        await asyncio.sleep(POLL_S)
    raise child.failure("did not finish every office's first scan")


async def _attributed(hub_db: MySqlSettings) -> dict[str, int]:
    conn = await connect(hub_db)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"SELECT door, COUNT(*) FROM `{hub_db.database}`.watch_changes"
                              " GROUP BY door")
            return {str(door): int(count) for door, count in await cur.fetchall()}
    finally:
        conn.close()


async def _caught_up(hub_db: MySqlSettings, made: int, timeout_s: float) -> dict[str, int]:
    """The changes attributed, by door, once they are as many as were made (or at the timeout:
    what is missing shows in the report)."""
    give_up_at = time.monotonic() + timeout_s
    while True:
        doors = await _attributed(hub_db)
        if sum(doors.values()) >= made or time.monotonic() >= give_up_at:
            return doors
        await asyncio.sleep(POLL_S)


async def _reading(
    session: aiohttp.ClientSession, url: str, conn: aiomysql.Connection,
    offices: Sequence[WatchOffice], child: Child,
) -> Reading:
    watch = await watch_counters(session, url)
    server = await server_counters(conn, offices)
    return Reading(at=time.monotonic(), server=server, watch=watch, cpu_s=cpu_seconds(child.pid))


async def run_watch_bench(
    settings: HubSettings, options: WatchOptions, workdir: Path, progress: Progress
) -> WatchResult:
    offices = watch_offices(options.offices, options.database_prefix)
    data = await ready_offices(settings, options, offices, workdir, progress)
    chosen = watch_settings(settings, options.env)
    run_id = secrets.token_hex(4)
    changes = schedule(offices, seconds=options.seconds, per_min=options.changes_per_min,
                       patients=options.patients, appointments=options.appointments,
                       run_id=run_id)
    async with AsyncExitStack() as stack:
        hub_db = await stack.enter_async_context(
            ledger_database(settings.ledger_db, f"hubbench_{run_id}_watch")
        )
        conn = await stack.enter_async_context(server_room(
            settings.ledger_db, options.offices * chosen.office_concurrency, progress
        ))
        child, url = await stack.enter_async_context(
            running_watch(offices, hub_db, workdir, options.env)
        )
        session = await stack.enter_async_context(aiohttp.ClientSession())
        await _first_scans(session, url, child, options.offices)
        progress(f"watch: every office scanned once; {len(changes)} front-desk changes over "
                 f"{options.seconds:g} s")
        before = await _reading(session, url, conn, offices, child)
        made = await play(settings.ledger_db, changes, progress)
        # An office backing off waits up to max_interval_s before its next scan.
        timeout_s = (chosen.max_interval_s + CATCH_UP_INTERVALS * chosen.interval_s
                     + CATCH_UP_SLACK_S)
        doors = await _caught_up(hub_db, made.total(), timeout_s)
        after = await _reading(session, url, conn, offices, child)
        rss_mb, peak_mb = memory_mb(child.pid)
    updates = sum(count for kind, count in made.items() if kind in UPDATES)
    return _result(options, data, chosen, before, after, made, doors, updates,
                   rss_mb=rss_mb, peak_mb=peak_mb)


def _result(
    options: WatchOptions, data: OfficeData, chosen: WatchSettings, before: Reading,
    after: Reading, made: Counter[ChangeKind], doors: Mapping[str, int], updates: int, *,
    rss_mb: float, peak_mb: float,
) -> WatchResult:
    span_s = after.at - before.at
    changes = made.total()
    queries = after.watch.queries - before.watch.queries
    p50_s, _ = bucket_quantile(0.50, before.watch.buckets, after.watch.buckets)
    p99_s, p99_bound_s = bucket_quantile(0.99, before.watch.buckets, after.watch.buckets)
    # The office's own UPDATEs read one row each (by primary key): the rest is the watch's.
    office_rows = after.server.office_rows_read - before.server.office_rows_read - updates
    server_rows = after.server.server_rows_read - before.server.server_rows_read
    base_s = chosen.interval_s
    return WatchResult(
        offices=options.offices, patients=options.patients, appointments=options.appointments,
        built=data.built, reused=data.reused, build_s=data.build_s, disk_mb=data.disk_mb,
        interval_s=base_s, max_interval_s=chosen.max_interval_s, batch=chosen.batch,
        max_pages=chosen.max_pages, office_concurrency=chosen.office_concurrency,
        log_window_s=chosen.log_window_s,
        window_s=options.seconds, span_s=round(span_s, 1),
        changes_made=changes, made_by_kind={kind.value: n for kind, n in sorted(made.items())},
        changes_attributed=sum(doors.values()), attributed_by_door=dict(sorted(doors.items())),
        queries=int(queries), queries_per_s=round(queries / span_s, 2),
        queries_per_office_min=round(queries / span_s * 60 / options.offices, 1),
        queries_by_name=_by_name(before.watch, after.watch),
        query_ms_mean=round(1000 * (after.watch.query_s - before.watch.query_s)
                            / max(queries, 1), 3),
        p50_ms=round(p50_s * 1000, 3), p99_ms=round(p99_s * 1000, 3),
        p99_bucket_ms=round(p99_bound_s * 1000, 3),
        server_selects_per_s=round(
            (after.server.com_select - before.server.com_select) / span_s, 2),
        scan_rows=int(after.watch.scan_rows - before.watch.scan_rows),
        office_rows_read=office_rows,
        rows_read_per_change=round(office_rows / changes, 1) if changes else 0.0,
        server_rows_read_per_change=round(server_rows / changes, 1) if changes else 0.0,
        watch_cpu_share=round((after.cpu_s - before.cpu_s) / span_s, 4),
        watch_rss_mb=round(rss_mb, 1), watch_peak_rss_mb=round(peak_mb, 1),
        offices_backed_off=sum(1 for v in after.watch.intervals.values() if v > base_s),
    )


def _by_name(before: WatchCounters, after: WatchCounters) -> dict[str, int]:
    """The span's queries by name, most first."""
    counts = {name: int(n - before.by_name.get(name, 0.0)) for name, n in after.by_name.items()}
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: -kv[1]))
