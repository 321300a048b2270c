"""The RabbitMQ dashboard reads only names the running broker's prometheus plugin exposes,
on the aggregated ``/metrics`` and on ``/metrics/per-object``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aio_pika
import httpx
import pytest

from grafana.dashboards_src.export import documents, queries
from hub.settings import HubSettings
from tests.observability.catalogue_names import metric_names

PLUGIN_PORT = 15692  # rabbitmq_prometheus' default listener
POLL_S, POLL_TRIES = 0.5, 60  # the plugin's queue statistics refresh every few seconds


def _plugin_url(settings: HubSettings) -> str:
    return f"http://{urlsplit(settings.management_url).hostname}:{PLUGIN_PORT}"


def _exposed(text: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1].isalpha()}


@pytest.fixture
async def office_queue() -> AsyncIterator[str]:
    """A quorum queue shaped like an office queue, so per-queue series exist; deleted after."""
    name = f"hub.office.t-metrics-{uuid.uuid4().hex[:10]}"
    url = HubSettings().broker_url.get_secret_value()
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        yield name
        await channel.queue_delete(name)


async def _scrape_until_listed(client: httpx.AsyncClient, url: str, queue: str) -> str:
    for _ in range(POLL_TRIES):
        text = (await client.get(url)).text
        if f'queue="{queue}"' in text:
            return text
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"{url} never listed {queue}")


async def test_every_rabbitmq_name_in_the_dashboards_is_exposed(office_queue: str) -> None:
    # Given the rabbitmq_* names the dashboards read, and a broker holding an office queue
    used = {
        name
        for query in queries(documents())
        for name in metric_names(query["expr"])
        if name.startswith("rabbitmq_")
    }
    base = _plugin_url(HubSettings())
    async with httpx.AsyncClient(timeout=10) as client:
        # When both of the plugin's endpoints are scraped
        per_object = await _scrape_until_listed(client, f"{base}/metrics/per-object", office_queue)
        aggregated = (await client.get(f"{base}/metrics")).text
    # Then each name is exposed by both
    assert len(used) > 10
    assert used - _exposed(per_object) == set()
    assert used - _exposed(aggregated) == set()
