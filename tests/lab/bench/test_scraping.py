"""The fleet's scraper of the writer's /metrics, against a small real HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from lab.bench.scraping import scraping
from tests.support.http_server import serving_app


@dataclass
class _Served:
    url: str
    accepts: list[str]  # the Accept header of each request
    third: asyncio.Event  # set on the third request: the scraper has settled two by then


@asynccontextmanager
async def _metrics_server(status: int) -> AsyncIterator[_Served]:
    """A /metrics answering ``status``."""
    accepts: list[str] = []
    third = asyncio.Event()

    async def metrics(request: web.Request) -> web.Response:
        accepts.append(request.headers.get("Accept", ""))
        if len(accepts) == 3:
            third.set()
        return web.Response(status=status, text="# EOF\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    async with serving_app(app) as root:
        yield _Served(url=f"{root}/metrics", accepts=accepts, third=third)


async def test_scrapes_ask_for_openmetrics_as_prometheus_does() -> None:
    # Given a writer's /metrics
    async with _metrics_server(200) as served, scraping([served.url], 0.02) as scrapes:
        # When it is scraped every 20 ms, three times
        await asyncio.wait_for(served.third.wait(), 10)
    # Then the scrapes were answered and timed, each asking for OpenMetrics first
    assert scrapes.answered >= 2 and scrapes.failed == 0
    assert scrapes.mean_s is not None and scrapes.mean_s > 0
    assert all(a.startswith("application/openmetrics-text") for a in served.accepts)


async def test_a_refused_scrape_is_counted_as_failed() -> None:
    # Given a /metrics that answers 500
    async with _metrics_server(500) as served, scraping([served.url], 0.02) as scrapes:
        # When it is scraped three times
        await asyncio.wait_for(served.third.wait(), 10)
    # Then they count as failed, none as answered
    assert scrapes.failed >= 2
    assert (scrapes.answered, scrapes.mean_s) == (0, None)


async def test_an_interval_of_zero_never_scrapes() -> None:
    # Given a /metrics, When the fleet runs with scraping off for a while
    async with _metrics_server(200) as served, scraping([served.url], 0) as scrapes:
        await asyncio.sleep(0.1)
    # Then nothing was asked of it
    assert (scrapes.answered, scrapes.failed, served.accepts) == (0, 0, [])
