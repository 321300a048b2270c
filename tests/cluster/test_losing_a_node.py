"""On a three-node cluster: quorum queues on every node, and the writer and the publisher
library keep working when the node they are connected to is lost."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from yarl import URL

from adapters.publisher import VendorPublisher
from adapters.publisher.connection import broker_urls, connect
from contracts import OutcomeStatus
from hub import names
from hub.broker_admin import management_api
from hub.broker_connection import connect_robust
from hub.broker_nodes import NodeRotatingConnection, where, with_login
from hub.dlq.retention import DEFAULT_RETENTION_NAMES, apply_retention
from lab.chaos.processes import free_port
from tests.adapters.intents import new_patient
from tests.cluster.conftest import ClusterHandle
from tests.operations.support import running_writer
from tests.writer.support import World, drain_outcomes, unique

pytestmark = pytest.mark.xdist_group("rabbit-cluster")


def _node_of(connection: object) -> str:
    assert isinstance(connection, NodeRotatingConnection)
    return connection.node


async def test_the_hubs_queues_and_policy_reach_every_node(
    cluster: ClusterHandle, cluster_world: World
) -> None:
    # Given the topology declared as `hub topology` declares it, giving no group size
    office_queue = names.office_queue(cluster_world.office)
    # When hub.dead's retention policy is put through the first node's management API alone
    first, last = (node.management_url for node in cluster.cluster.nodes[::2])
    on_first = cluster_world.settings.model_copy(update={"management_url": first})
    async with management_api(on_first) as api:
        await apply_retention(api, DEFAULT_RETENTION_NAMES, 0.5)
    # Then every quorum queue of the hub has a member on each node (the initial group size
    # defaults to the cluster's size on 3.10)
    every_node = sorted(node.name for node in cluster.cluster.nodes)
    for queue in (office_queue, names.DEAD_LETTER_QUEUE):
        assert await cluster.quorum_members(queue) == every_node, queue
    # And the last node lists the policy: policies are the cluster's, not a node's
    on_last = cluster_world.settings.model_copy(update={"management_url": last})
    async with management_api(on_last) as api:
        policies = {policy.name for policy in await api.policies()}
    assert names.RETENTION_POLICY in policies


async def test_the_writer_moves_to_another_node_when_its_node_is_killed(
    cluster: ClusterHandle, cluster_world: World
) -> None:
    # Given the writer given all three nodes, and a vendor publishing through the library,
    # also given all three
    world, vendor = cluster_world, cluster_world.vendor
    vendor_urls = with_login(cluster.urls, vendor.name, vendor.password)
    async with running_writer(world) as writer, VendorPublisher(vendor_urls, vendor.name) as pub:
        before = unique("before")
        await pub.publish(new_patient(world.office, before))
        lost = cluster.index_of(_node_of(writer.parts.connection))
        # And the test's own outcome channel on another node
        drain = await connect_robust(SecretStr(cluster.urls), first=(lost + 1) % 3)
        try:
            channel = await drain.channel()
            assert [e.status for e in await drain_outcomes(channel, vendor.name, 1)] == [
                OutcomeStatus.APPLIED
            ]
            # When the writer's node is killed, and an intent is published after that
            await cluster.kill(lost)
            try:
                after = unique("after")
                await pub.publish(new_patient(world.office, after))
                events = await drain_outcomes(channel, vendor.name, 1)
                now_on = _node_of(writer.parts.connection)
            finally:
                await cluster.start(lost)
        finally:
            await drain.close()
    # Then the writer reconnected to another node and applied it
    assert [(e.idempotency_key, e.status) for e in events] == [(after, OutcomeStatus.APPLIED)]
    assert cluster.index_of(now_on) != lost


async def test_the_publisher_moves_to_another_node_when_its_node_is_killed(
    cluster: ClusterHandle, cluster_world: World
) -> None:
    # Given a vendor's publisher given the three nodes as a list, connected to one of them
    world, vendor = cluster_world, cluster_world.vendor
    urls = with_login(cluster.urls, vendor.name, vendor.password).split(",")
    async with VendorPublisher(urls, vendor.name, confirm_timeout_s=30.0) as publisher:
        lost = cluster.index_of(publisher.node)
        # When that node is killed, and the vendor publishes
        await cluster.kill(lost)
        try:
            key = unique("after")
            receipt = await publisher.publish(new_patient(world.office, key))
            now_on = publisher.node
        finally:
            await cluster.start(lost)
    # Then the broker confirmed it through another node, and it waits in the office's queue
    assert receipt.idempotency_key == key
    assert cluster.index_of(now_on) != lost
    drain = await connect_robust(SecretStr(cluster.urls))
    async with drain:
        queue = await (await drain.channel()).declare_queue(
            names.office_queue(world.office), passive=True)
        # (twice at most when the lost node took it but its confirm was lost: sent again)
        assert 1 <= (queue.declaration_result.message_count or 0) <= receipt.attempts


async def test_the_first_connection_passes_over_a_node_that_is_down(
    cluster: ClusterHandle, cluster_world: World
) -> None:
    # Given a list whose first address is a node that is down (a port nothing listens on)
    down = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    urls = f"{down},{cluster.urls}"
    vendor = cluster_world.vendor
    # When the hub, the publisher library and the management API start on it, first node first
    hub = await connect_robust(SecretStr(urls), first=0)
    async with hub:
        hub_node = _node_of(hub)
    library = await connect(broker_urls(with_login(urls, vendor.name, vendor.password)),
                            vendor.name, reconnect_interval_s=1.0, first=0)
    async with library:
        library_node = _node_of(library)
    management = f"http://127.0.0.1:{free_port()},{cluster.management_urls}"
    settings = cluster_world.settings.model_copy(update={"management_url": management})
    async with management_api(settings) as api:
        queue = await api.queue(names.office_queue(cluster_world.office))
    # Then each uses the next node: the first of the cluster
    first_node = where(URL(cluster.cluster.nodes[0].amqp_url))
    assert (hub_node, library_node) == (first_node, first_node)
    assert queue is not None and queue.type == "quorum"
