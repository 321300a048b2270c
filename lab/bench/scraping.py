"""The writers' /metrics scraped through each fleet load, as the shipped Prometheus scrapes it
(prometheus/prometheus.yml: every 15 s, asking for OpenMetrics first). A scrape renders every
office's series, so what it costs the writer, and the lanes beside it, belongs in the figures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import aiohttp

# Prometheus 2's Accept header: OpenMetrics preferred, the text format as the fallback.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
SCRAPE_TIMEOUT_S = 10.0  # prometheus.yml's scrape_timeout default


@dataclass
class Scrapes:
    """What the scrapes of one load came to."""

    answered: int = 0  # 200 with a body
    failed: int = 0  # another status, an error or no answer within the timeout
    answered_s: float = 0.0  # the answered ones' wall time, summed

    @property
    def mean_s(self) -> float | None:
        return self.answered_s / self.answered if self.answered else None


@asynccontextmanager
async def scraping(urls: Sequence[str], every_s: float) -> AsyncIterator[Scrapes]:
    """Scrape each of ``urls`` every ``every_s`` seconds for the block (never when it is 0),
    one count for them all."""
    scrapes = Scrapes()
    if every_s <= 0:
        yield scrapes
        return
    tasks = [asyncio.create_task(_scrape_forever(url, every_s, scrapes)) for url in urls]
    try:
        yield scrapes
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task


async def _scrape_forever(url: str, every_s: float, scrapes: Scrapes) -> None:
    timeout = aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        next_at = time.monotonic() + every_s
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += every_s
            started_at = time.monotonic()
            try:
                async with session.get(url, headers={"Accept": PROMETHEUS_ACCEPT}) as response:
                    await response.read()
                    answered = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                answered = False
            if answered:
                scrapes.answered += 1
                scrapes.answered_s += time.monotonic() - started_at
            else:
                scrapes.failed += 1
