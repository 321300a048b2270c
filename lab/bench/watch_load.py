"""watch: what the watch costs the office databases, counted two ways at both ends of the
measured span.

- **The watch's own metrics** (its /metrics): every query it ran on an office database, by the
  ``hub_od_sql_query_duration_seconds`` histogram (``ReadOnlyDatabase`` observes each one), the
  rows its scans returned, the changes it attributed, each office's current interval.
- **MariaDB's counters**: global status ``Com_select`` and ``Rows_read`` (the whole server:
  anything else running on it counts too, the hub database the watch keeps its state in
  included), and ``information_schema.TABLE_STATISTICS`` (``userstat``) over the office databases
  only, which counts every reader of them: the office's own UPDATEs read one row each.

``server_room`` turns ``userstat`` on and, where the server's ``max_connections`` has no room for
every office's pool (each real office has its own server; here they share one), raises it, and
sets both back afterwards.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import aiomysql
from prometheus_client.parser import text_string_to_metric_families

from hub.settings import MySqlSettings
from lab.bench.watch_offices import WatchOffice, connect

QUERY_HISTOGRAM = "hub_od_sql_query_duration_seconds"
SCAN_ROWS = "hub_watch_scan_rows"
CHANGES = "hub_changes"
INTERVAL = "hub_watch_interval_seconds"
CONNECTION_ROOM = 50  # beyond the watch's pools: the other clients of the server
Progress = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class ServerCounters:
    com_select: int
    server_rows_read: int
    office_rows_read: int  # TABLE_STATISTICS.ROWS_READ over the office databases


async def _variable(cur: aiomysql.Cursor, name: str) -> str:
    await cur.execute("SELECT @@GLOBAL." + name)
    row = await cur.fetchone()
    return str(row[0])


@asynccontextmanager
async def server_room(
    account: MySqlSettings, connections: int, progress: Progress
) -> AsyncIterator[aiomysql.Connection]:
    """A root connection to read the counters on, with ``userstat`` on and room for
    ``connections`` more clients; both settings restored on exit."""
    conn = await connect(account)
    try:
        async with conn.cursor() as cur:
            userstat = await _variable(cur, "userstat")
            most = int(await _variable(cur, "max_connections"))
            await cur.execute("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
            row = await cur.fetchone()
            wanted = int(row[1]) + connections + CONNECTION_ROOM
            await cur.execute("SET GLOBAL userstat = 1")
            if wanted > most:
                progress(f"watch: max_connections {most} → {wanted} for the run (every office "
                         "database shares this server)")
                await cur.execute(f"SET GLOBAL max_connections = {int(wanted)}")
        try:
            yield conn
        finally:
            async with conn.cursor() as cur:
                await cur.execute(f"SET GLOBAL userstat = {int(userstat)}")
                if wanted > most:
                    await cur.execute(f"SET GLOBAL max_connections = {most}")
    finally:
        conn.close()


async def server_counters(
    conn: aiomysql.Connection, offices: Sequence[WatchOffice]
) -> ServerCounters:
    async with conn.cursor() as cur:
        await cur.execute(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_select', 'Rows_read')"
        )
        status = {str(name): int(value) for name, value in await cur.fetchall()}
        marks = ", ".join(["%s"] * len(offices))
        await cur.execute(
            "SELECT COALESCE(SUM(ROWS_READ), 0) FROM information_schema.TABLE_STATISTICS"
            f" WHERE TABLE_SCHEMA IN ({marks})", [office.database for office in offices],
        )
        row = await cur.fetchone()
    return ServerCounters(com_select=status["Com_select"],
                          server_rows_read=status["Rows_read"],
                          office_rows_read=int(row[0]))


@dataclass(frozen=True, kw_only=True)
class WatchCounters:
    queries: float  # every query on an office database, whatever its name and result
    query_s: float  # their time, summed
    buckets: Mapping[float, float]  # cumulative counts by upper bound (+inf included)
    by_name: Mapping[str, float]  # queries by the name the watch gives them (watch_scan_patient)
    scan_rows: float
    changes: Mapping[str, float] = field(default_factory=dict)  # by door
    intervals: Mapping[str, float] = field(default_factory=dict)  # by office


def parse_watch_metrics(text: str) -> WatchCounters:
    queries = query_s = scan_rows = 0.0
    buckets: dict[float, float] = {}
    by_name: dict[str, float] = {}
    changes: dict[str, float] = {}
    intervals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name == QUERY_HISTOGRAM + "_bucket":
                bound = float(labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + value
            elif name == QUERY_HISTOGRAM + "_count":
                queries += value
                by_name[labels["query"]] = by_name.get(labels["query"], 0.0) + value
            elif name == QUERY_HISTOGRAM + "_sum":
                query_s += value
            elif name == SCAN_ROWS + "_total":
                scan_rows += value
            elif name == CHANGES + "_total":
                changes[labels["door"]] = changes.get(labels["door"], 0.0) + value
            elif name == INTERVAL:
                intervals[labels["office"]] = value
    return WatchCounters(queries=queries, query_s=query_s, buckets=buckets, by_name=by_name,
                         scan_rows=scan_rows, changes=changes, intervals=intervals)


async def watch_counters(session: aiohttp.ClientSession, url: str) -> WatchCounters:
    async with session.get(url) as response:
        response.raise_for_status()
        return parse_watch_metrics(await response.text())


def bucket_quantile(
    q: float, before: Mapping[float, float], after: Mapping[float, float]
) -> tuple[float, float]:
    """(estimate, bucket bound) of the q-quantile of what was observed between two readings of
    a histogram: Prometheus's ``histogram_quantile``, linear inside the bucket; the bound is the
    bucket's upper edge (the largest finite one for the +Inf bucket)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    if total <= 0:
        return 0.0, 0.0
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if math.isinf(bound):
                return lower, lower
            share = (rank - below) / (count - below) if count > below else 1.0
            return lower + (bound - lower) * share, bound
        lower, below = bound, count
    return lower, lower
