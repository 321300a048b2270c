"""No panel may show a metric that does not exist: a real Prometheus scrapes a real writer (and
the broker's rabbitmq_prometheus) while a short demo-like flow runs, then every dashboard query
and every alert rule's selectors must find series."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aio_pika.abc import AbstractRobustChannel

from odsim.server import SimHandle
from tests.observability.e2e_flow import FLOW_WRITER, run_flow
from tests.observability.expressions import ALERTS, Expected, dashboard_queries, rule_queries
from tests.observability.prometheus_server import PrometheusApi, ScrapeJob, running_prometheus
from tests.operations.support import fast, running_writer
from tests.writer.conftest import MakeWorld

BROKER_METRICS = "127.0.0.1:15692"
WRITER_JOB = "hub-writer"  # the alert rules expect this job name
SCRAPED_GUARD_S = 20.0  # a guard, not a timing: how long Prometheus may take to see everything
POLL_S = 0.25


async def _missing(prometheus: PrometheusApi, expected: list[Expected]) -> list[Expected]:
    """The queries that still find no series once Prometheus had time to scrape and evaluate."""
    missing = list(expected)
    try:
        async with asyncio.timeout(SCRAPED_GUARD_S):
            while missing:
                missing = [e for e in missing if not await prometheus.query(e.expr)]
                if missing:
                    await asyncio.sleep(POLL_S)
    except TimeoutError:
        pass
    return missing


async def _until_scraped(prometheus: PrometheusApi, jobs: set[str]) -> None:
    async with asyncio.timeout(SCRAPED_GUARD_S):  # a guard, not a timing
        while True:
            if await prometheus.healthy_jobs() == jobs:
                return
            await asyncio.sleep(POLL_S)


async def test_every_dashboard_query_and_alert_selector_finds_series(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, simulator: SimHandle,
    tmp_path: Path,
) -> None:
    # Given a real writer serving its metrics, and a real Prometheus scraping it and the broker
    # every second with the hub's alert rules loaded
    world = fast(await make_world(writer=FLOW_WRITER))
    async with running_writer(world) as writer:
        jobs = [
            ScrapeJob(name=WRITER_JOB, target=f"127.0.0.1:{writer.server.port}"),
            ScrapeJob(name="rabbitmq", target=BROKER_METRICS),
            ScrapeJob(name="rabbitmq-per-object", target=BROKER_METRICS,
                      metrics_path="/metrics/per-object"),
        ]
        async with running_prometheus(tmp_path, jobs, rule_files=[ALERTS]) as prometheus:
            await _until_scraped(prometheus, {job.name for job in jobs})
            # When a short flow runs: applied, duplicate, rejected, and dead after Open Dental
            # failed with 500s that were reconciled by read-only SQL before each retry
            await run_flow(world, hub_channel, simulator)
            # Then every dashboard query and every rule's selectors find series
            missing = await _missing(prometheus, dashboard_queries() + rule_queries())

    assert not missing, "queries without series:\n" + "\n".join(
        f"  {e.where}: {e.expr}" for e in missing
    )
