"""A three-node RabbitMQ cluster of the module's own (lab/chaos/rabbit_cluster.py), started once
per test module, and the writer's world on it. The shared broker (5672) is never touched.

The cluster's nodes are child processes of an event loop in a thread of their own: each test
runs in its own loop (as every other test here), and kills or starts a node through
``ClusterHandle``, which hands the work to that thread. Tests that use the cluster carry the
``xdist_group("rabbit-cluster")`` mark, so that pytest-xdist (``--dist loadgroup``,
scripts/test) runs a module's tests in one worker, on one cluster.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr
from yarl import URL

from hub.broker_admin import management_api
from hub.broker_connection import connect_robust
from hub.broker_nodes import where
from hub.settings import MySqlSettings
from lab.chaos.rabbit_cluster import RabbitCluster
from lab.chaos.rabbit_node import rabbitmq_available
from odsim.server import SimHandle
from tests.writer.conftest import _prepare_broker, ledger, ledger_db, simulator
from tests.writer.support import FULL_KEY, OfficeSpec, VendorSpec, World, unique, write_world

__all__ = ["ledger", "ledger_db", "simulator"]

_T = TypeVar("_T")
FORM_GUARD_S = 300.0  # a guard on the whole start, not a timing


@dataclass(frozen=True, kw_only=True)
class ClusterHandle:
    cluster: RabbitCluster
    loop: asyncio.AbstractEventLoop
    formed_s: float  # how long the three nodes took to start and join (reported, not asserted)

    @property
    def urls(self) -> str:
        return self.cluster.amqp_urls

    @property
    def management_urls(self) -> str:
        return self.cluster.management_urls

    def index_of(self, node: str) -> int:
        """The node (0-based) whose AMQP address is ``node`` (``host:port``)."""
        wheres = [where(URL(node_.amqp_url)) for node_ in self.cluster.nodes]
        return wheres.index(node)

    def run(self, work: Coroutine[Any, Any, _T]) -> Awaitable[_T]:
        """``work`` done in the cluster's own loop, awaited from the test's."""
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def kill(self, index: int) -> None:
        await self.run(self.cluster.kill(index))

    async def start(self, index: int) -> None:
        await self.run(self.cluster.start_node(index))

    async def quorum_members(self, queue: str) -> list[str]:
        return await self.run(self.cluster.quorum_members(queue))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    if not rabbitmq_available():
        pytest.fail("RabbitMQ's scripts are not in /usr/lib/rabbitmq/bin: the cluster tests "
                    "need them, as the chaos run does")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="rabbit-cluster", daemon=True)
    thread.start()
    home: Path = tmp_path_factory.mktemp("rabbit-cluster")
    cluster = RabbitCluster(f"hubt-{uuid.uuid4().hex[:6]}", home)
    began = time.monotonic()
    try:
        asyncio.run_coroutine_threadsafe(cluster.start(), loop).result(FORM_GUARD_S)
        handle = ClusterHandle(cluster=cluster, loop=loop, formed_s=time.monotonic() - began)
        print(f"\nthree-node cluster formed in {handle.formed_s:.1f} s")  # shown with -s
        yield handle
    finally:
        asyncio.run_coroutine_threadsafe(cluster.discard(), loop).result(FORM_GUARD_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def on_cluster(world: World, cluster: ClusterHandle) -> World:
    """The world's hub settings pointed at every node of the cluster."""
    world.settings = world.settings.model_copy(update={
        "broker_url": SecretStr(cluster.urls), "management_url": cluster.management_urls,
    })
    return world


@pytest.fixture
async def cluster_world(
    tmp_path: Path, cluster: ClusterHandle, simulator: SimHandle, empty_database: str,
    ledger_db: MySqlSettings,
) -> World:
    """One office and one vendor on the cluster, its topology declared and the vendor added."""
    office = OfficeSpec(id=unique("t-office"), customer_key=FULL_KEY)
    vendor = VendorSpec(name=unique("t-vendor"), agreements={office.id: ("patient.create",)},
                        password=unique("pw-long"))
    world = on_cluster(write_world(
        tmp_path, api_url=simulator.base_url, od_database=empty_database, ledger_db=ledger_db,
        offices=[office], vendors=[vendor],
    ), cluster)
    async with management_api(world.settings) as api:
        connection = await connect_robust(world.settings.broker_url)
        async with connection:
            await _prepare_broker(world, api, await connection.channel())
    return world
