"""The broker can hold a thousand office queues, and the bench refuses a world it cannot hold.

RabbitMQ 3.10 books about three file handles per quorum queue; past its limit it accepts TCP
connections but never completes their handshake (reproduced with 1,000 queues and the common
open-file limit of 1024). scripts/setup-broker.sh raises the limit; these run after it."""

from __future__ import annotations

import httpx
import pytest

from hub.settings import HubSettings
from lab.bench.config import BenchError
from lab.bench.declare import (
    HANDLES_FOR_CONNECTIONS,
    HANDLES_PER_QUORUM_QUEUE,
    SOCKETS_SHARE,
    declare_queues,
    plain_quorum_queues,
)

THOUSAND_OFFICES = 1_000


def _management(settings: HubSettings) -> httpx.AsyncClient:
    auth = (settings.management_user, settings.management_password.get_secret_value())
    return httpx.AsyncClient(base_url=settings.management_url, auth=auth, timeout=30)


async def test_setup_broker_left_room_for_a_thousand_office_queues() -> None:
    # Given the broker as scripts/setup-broker.sh left it
    async with _management(HubSettings()) as client:
        nodes = (await client.get("/api/nodes", params={"columns": "sockets_total"})).json()
    # Then each node's file handle cache can book a thousand quorum queues and the connections
    needed = HANDLES_PER_QUORUM_QUEUE * THOUSAND_OFFICES + HANDLES_FOR_CONNECTIONS
    assert [node["sockets_total"] / SOCKETS_SHARE >= needed for node in nodes] == [True] * len(
        nodes
    )


async def test_the_bench_refuses_more_queues_than_the_broker_can_book() -> None:
    # Given far more queues than any node's file handle limit allows
    settings = HubSettings()
    specs = plain_quorum_queues([f"bench-never-declared-{n}" for n in range(100_000)])
    # When they are declared, Then nothing is declared and the error names the remedy
    with pytest.raises(BenchError, match="raise its open-file limit"):
        await declare_queues(settings, specs)
    async with _management(settings) as client:
        reply = await client.get("/api/queues/%2F/bench-never-declared-0")
    assert reply.status_code == 404
