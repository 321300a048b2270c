"""The broker's events on a watched connection and its channels, on the real broker: each is
logged with its reply code and counted; the client's own closes are neither."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import aiormq
import httpx
import pytest
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from prometheus_client import CollectorRegistry

from hub.broker_admin import ManagementApi
from hub.observability import HubMetrics
from hub.observability.broker_events import BrokerEvents, broker_reply
from hub.observability.labels import BrokerReply, ChannelRole
from hub.settings import HubSettings
from lab.chaos.rabbit_node import NodePorts, RabbitNode
from tests.reliability.proxy import blocking_proxy
from tests.writer.support import eventually, unique

LOGGER = "hub.observability.broker_events"
CLOSES = "hub_broker_channel_closes_total"
CONNECTION_CLOSES = "hub_broker_connection_closes_total"
RECONNECTS = "hub_broker_reconnects_total"
CANCELS = "hub_broker_consumer_cancels_total"
CONSUME_1 = {"channel": "consume", "office": "office-1"}
TIMED_OUT = (
    "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: "
    "1800000 ms. This timeout value can be configured, see consumers doc guide to learn more"
)


# A node of the test's own stands in for hours: a delivery times out after 1 s, checked every
# 0.5 s (RabbitMQ reads both when a channel opens).
SHORT_TIMEOUTS = (
    "application:set_env(rabbit, consumer_timeout, 1000), "
    "application:set_env(rabbit, channel_tick_interval, 500)."
)


@pytest.fixture
async def impatient_node(tmp_path: Path) -> AsyncIterator[RabbitNode]:
    """A RabbitMQ node of the test's own whose consumer_timeout is one second."""
    node = RabbitNode(f"{unique('hubt')}@localhost", tmp_path / "rabbitmq", NodePorts.free())
    await node.start()
    try:
        await node.ctl("eval", SHORT_TIMEOUTS)
        yield node
    finally:
        await node.discard()


@dataclass(frozen=True, kw_only=True)
class Watched:
    connection: AbstractRobustConnection
    channel: AbstractRobustChannel
    name: str  # the connection's name, as the management API lists it


@asynccontextmanager
async def watched(
    metrics: HubMetrics, management: ManagementApi, port: int = 5672
) -> AsyncIterator[Watched]:
    """A robust connection and one consume channel of office-1, both watched; the queues the
    test declared on it are deleted afterwards (a reconnect may declare them again)."""
    name = unique("t-events")
    url = f"amqp://guest:guest@127.0.0.1:{port}/?reconnect_interval=0.2"
    connection = await aio_pika.connect_robust(url, client_properties={"connection_name": name})
    events = BrokerEvents(metrics)
    events.watch_connection(connection)
    try:
        channel = await connection.channel(publisher_confirms=False)
        await events.watch_channel(channel, ChannelRole.CONSUME, "office-1")
        yield Watched(connection=connection, channel=channel, name=name)
    finally:
        await connection.close()
        for queue in name, f"{name}.q":
            await management.delete_queue(queue)


def value(registry: CollectorRegistry, name: str, labels: dict[str, str] | None = None) -> float:
    return registry.get_sample_value(name, labels or {}) or 0.0


def broker_counts(registry: CollectorRegistry) -> float:
    """Every broker event counted, whatever its labels."""
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name.startswith("hub_broker_") and sample.name.endswith("_total")
    )


async def close_through_management(management: ManagementApi, name: str, reason: str) -> None:
    """Close the client connection named ``name``, as an operator would in the management UI."""
    settings = HubSettings()
    auth = (settings.management_user, settings.management_password.get_secret_value())
    found: list[str] = []

    async def listed() -> bool:
        async with httpx.AsyncClient(base_url=settings.management_url, auth=auth) as client:
            reply = await client.get("/api/connections")
        found[:] = [
            c["name"] for c in reply.json()
            if c.get("client_properties", {}).get("connection_name") == name
        ]
        return bool(found)

    await eventually(listed, f"the management API lists connection {name}")
    assert await management.close_connection(found[0], reason)


def test_replies_are_read_from_aiormq_exceptions() -> None:
    # Given the exceptions aiormq raises for the broker's closes and for the client's own
    closes = {
        "timeout": aiormq.exceptions.ChannelPreconditionFailed(TIMED_OUT),
        "unknown tag": aiormq.exceptions.ChannelPreconditionFailed("PRECONDITION_FAILED - x"),
        "forced": aiormq.exceptions.ConnectionClosed(320, "CONNECTION_FORCED - bye"),
        "refused": aiormq.exceptions.ChannelAccessRefused("ACCESS_REFUSED - no"),
        "own": aiormq.exceptions.ChannelClosed(None, None),
        "reset": ConnectionResetError(104, "Connection reset by peer"),
    }
    # When each is read
    replies = {what: broker_reply(error) for what, error in closes.items()}
    # Then the broker's carry their code and name, a consumer timeout its own, the rest none
    names = {what: (r.code, r.name) for what, r in replies.items() if r is not None}
    assert names == {
        "timeout": (406, BrokerReply.CONSUMER_TIMEOUT),
        "unknown tag": (406, BrokerReply.PRECONDITION_FAILED),
        "forced": (320, BrokerReply.CONNECTION_FORCED),
        "refused": (403, BrokerReply.ACCESS_REFUSED),
    }
    assert BrokerReply.of(999) is BrokerReply.OTHER


async def test_a_channel_the_broker_closes_is_logged_with_its_code_and_counted(
    metrics: HubMetrics, registry: CollectorRegistry, management: ManagementApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with watched(metrics, management) as broker:
        # Given a watched consume channel
        # When it acks a delivery tag the broker never gave: the broker closes the channel
        underlay = await broker.channel.get_underlay_channel()
        await underlay.basic_ack(4711)

        # Then it is counted once, as a 406 on office-1's consume channel
        async def counted() -> bool:
            return value(registry, CLOSES, {**CONSUME_1, "reply": "precondition_failed"}) == 1

        await eventually(counted, "the channel close counted")
        # And one WARNING says so with the code and the broker's text, and the reopen is told
        await eventually(lambda: _logged(caplog, "reopened the consume channel"), "reopened")
    warnings = [r for r in _records(caplog) if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "the broker closed the consume channel of office office-1: 406 PRECONDITION_FAILED - "
        "unknown delivery tag 4711; its unacked deliveries go back to their queues, each counted "
        "against the queue's delivery limit"
    ]
    assert vars(warnings[0])["reply_code"] == 406
    assert broker_counts(registry) == 1


async def test_a_delivery_held_past_the_consumer_timeout_is_counted_as_a_consumer_timeout(
    metrics: HubMetrics, registry: CollectorRegistry, impatient_node: RabbitNode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    # Given a watched consume channel on a node whose consumer_timeout is one second
    connection = await aio_pika.connect_robust(impatient_node.amqp_url)
    async with connection:
        channel = await connection.channel()
        await BrokerEvents(metrics).watch_channel(channel, ChannelRole.CONSUME, "office-1")
        queue = await channel.declare_queue("held")
        await channel.default_exchange.publish(aio_pika.Message(b"{}"), queue.name)
        # When a delivery stays unacked past it
        await queue.consume(_ignore)

        # Then the broker's close is counted as a consumer timeout, not as any other 406
        async def counted() -> bool:
            return value(registry, CLOSES, {**CONSUME_1, "reply": "consumer_timeout"}) >= 1

        await eventually(counted, "the consumer timeout counted")
    assert value(registry, CLOSES, {**CONSUME_1, "reply": "precondition_failed"}) == 0
    # And the line says what RabbitMQ said
    first = _records(caplog)[0]
    assert "406 PRECONDITION_FAILED - delivery acknowledgement on channel" in first.getMessage()
    assert vars(first)["reply"] == "consumer_timeout"


async def test_a_connection_the_broker_closes_is_counted_and_its_reconnect_logged(
    metrics: HubMetrics, registry: CollectorRegistry, management: ManagementApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with watched(metrics, management) as broker:
        # Given a watched connection
        # When an operator closes it in the management API
        await close_through_management(management, broker.name, "maintenance")

        # Then the close is counted with its reply, and the reconnect counted and logged
        async def reconnected() -> bool:
            return value(registry, RECONNECTS) == 1

        await eventually(reconnected, "the reconnect counted")
        assert value(registry, CONNECTION_CLOSES, {"reply": "connection_forced"}) == 1
    messages = [r.getMessage() for r in _records(caplog)]
    assert messages[0] == (
        "the broker closed the connection: 320 CONNECTION_FORCED - maintenance; reconnecting"
    )
    assert messages[1].startswith("reconnected to the broker after ")
    # And its channels' closes are the connection's: not counted again
    assert broker_counts(registry) == 2


async def test_a_lost_connection_is_counted_as_lost(
    metrics: HubMetrics, registry: CollectorRegistry, management: ManagementApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    # Given a watched connection through a proxy
    async with blocking_proxy("127.0.0.1", 5672) as (proxy, port), watched(
        metrics, management, port
    ) as broker:
        # When the network cuts it: no close frame from the broker
        proxy.cut()

        # Then it is counted as lost, and its return as a reconnect
        async def reconnected() -> bool:
            return value(registry, RECONNECTS) == 1

        await eventually(reconnected, "the reconnect counted")
        assert value(registry, CONNECTION_CLOSES, {"reply": "lost"}) == 1
        assert not broker.connection.is_closed
    assert _records(caplog)[0].getMessage().startswith("lost the broker connection (")
    assert broker_counts(registry) == 2


async def test_a_consumer_the_broker_cancels_is_counted_even_after_its_channel_reopened(
    metrics: HubMetrics, registry: CollectorRegistry, management: ManagementApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with watched(metrics, management) as broker:
        # Given a watched channel the broker closed once and that reopened
        await (await broker.channel.get_underlay_channel()).basic_ack(4711)
        await eventually(lambda: _logged(caplog, "reopened the consume channel"), "reopened")
        # And a consumer on it
        queue = await broker.channel.declare_queue(f"{broker.name}.q")
        await queue.consume(_ignore)
        # When its queue is deleted under it
        assert await management.delete_queue(queue.name)

        # Then the broker's cancel is counted on office-1's consume channel and logged
        async def counted() -> bool:
            return value(registry, CANCELS, CONSUME_1) == 1

        await eventually(counted, "the consumer cancel counted")
    assert await _logged(caplog, "the broker cancelled consumer ctag")


async def test_our_own_closes_are_not_broker_events(
    metrics: HubMetrics, registry: CollectorRegistry, management: ManagementApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    # Given a watched connection and channel, with a consumer
    async with watched(metrics, management) as broker:
        queue = await broker.channel.declare_queue(f"{broker.name}.q")
        tag = await queue.consume(_ignore)
        # When the client cancels its consumer and closes its channel, then its connection
        await queue.cancel(tag)
        await broker.channel.close()
    # Then nothing was counted or logged
    assert broker_counts(registry) == 0
    assert _records(caplog) == []


async def _ignore(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    """A consumer for tests that only need one to exist."""


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER]


async def _logged(caplog: pytest.LogCaptureFixture, start: str) -> bool:
    return any(record.getMessage().startswith(start) for record in _records(caplog))
