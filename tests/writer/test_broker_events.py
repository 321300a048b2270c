"""The broker's events under a running writer are counted in its metrics: its channels closed by
the broker, its consumer cancelled, its connection lost, a message delivered again (once, however
often its lane runs it in place)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustChannel
from pydantic import SecretStr

from contracts import OutcomeStatus
from hub import bootstrap, names
from hub.broker_admin import ManagementApi
from hub.ledger import MySqlLedger
from hub.settings import HubSettings
from hub.writer.worker import Worker
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.reliability.proxy import blocking_proxy
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    GUARD_S,
    World,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    unique,
    vendor_client,
)

SHARED = "shared"  # the office label of a channel every office's lane uses (publishing)


@asynccontextmanager
async def running_writer(world: World) -> AsyncIterator[tuple[bootstrap.Writer, Worker]]:
    """The worker as ``hub worker`` runs it, with the parts it runs on (its channels)."""
    async with bootstrap.writer(
        world.settings, world.registry, metrics_registry=world.metrics
    ) as parts:
        worker = Worker(parts)
        try:
            await worker.start()
            yield parts, worker
        finally:
            await worker.drain()


def sample(world: World, name: str, **labels: str) -> float:
    return world.metrics.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("role", ["consume", "publish"])
async def test_a_channel_the_broker_closes_is_counted_and_the_writer_goes_on(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, role: str
) -> None:
    # Given a running writer
    world = await make_world()
    async with running_writer(world) as (writer, worker), vendor_client(
        world.settings, world.vendor
    ) as vendor:
        (lane,) = worker.lanes
        channel = lane.channel if role == "consume" else writer.publish_channel
        # When one of its channels (the office lane's own, or the shared publishing one) acks a
        # delivery tag the broker never gave
        await (await channel.get_underlay_channel()).basic_ack(4711)

        # Then the broker's close is counted as a 406 on that channel
        async def counted() -> bool:
            office = world.office if role == "consume" else SHARED
            where = {"channel": role, "office": office, "reply": "precondition_failed"}
            return sample(world, "hub_broker_channel_closes_total", **where) == 1

        await eventually(counted, f"the {role} channel's close counted")
        # And the reopened channel still carries an intent to its outcome
        intent = patient_create(world.office, unique("key"), last=letters())
        await vendor.publish(intent, office=world.office)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
    assert event.status is OutcomeStatus.APPLIED


async def test_a_consumer_the_broker_cancels_is_counted(
    make_world: MakeWorld, management: ManagementApi
) -> None:
    # Given a running writer consuming an office's queue
    world = await make_world()
    async with running_writer(world):
        # When an operator deletes the office's queue under it
        assert await management.delete_queue(names.office_queue(world.office))

        # Then the broker's cancel of the writer's consumer is counted, on the office's channel
        async def counted() -> bool:
            where = {"channel": "consume", "office": world.office}
            return sample(world, "hub_broker_consumer_cancels_total", **where) == 1

        await eventually(counted, "the consumer cancel counted")


async def test_a_lost_connection_is_counted_and_its_reconnect_too(make_world: MakeWorld) -> None:
    # Given a running writer that reaches the broker through a proxy
    world = await make_world()
    async with blocking_proxy("127.0.0.1", 5672) as (proxy, port):
        url = f"amqp://guest:guest@127.0.0.1:{port}/?reconnect_interval=0.2"
        via_proxy = replace(world, settings=world.settings.model_copy(
            update={"broker_url": SecretStr(url)}
        ))
        async with running_writer(via_proxy):
            # When the network cuts its connection
            proxy.cut()

            # Then the loss and the reconnect are counted
            async def reconnected() -> bool:
                return sample(world, "hub_broker_reconnects_total") == 1

            await eventually(reconnected, "the writer reconnected")
            assert sample(world, "hub_broker_connection_closes_total", reply="lost") == 1


async def test_a_redelivered_intent_is_counted_once_however_often_its_lane_runs_it(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hub.observability.broker_events")
    world = await make_world(writer=FAST_WRITER.model_copy(update={"max_attempts": 50}))
    key = unique("key")
    async with vendor_client(world.settings, world.vendor) as vendor:
        # Given an intent another consumer took and gave back unacked (its channel closed)
        await vendor.publish(patient_create(world.office, key, last=letters()), office=world.office)
        await _take_and_give_back(world.settings, names.office_queue(world.office))
        # And an Open Dental whose eConnector is down, so the lane holds it and runs it again
        simulator.set_faults(FaultConfig(econnector_down_s=600))
        async with running_writer(world):
            # When the writer runs it twice in place, then Open Dental comes back
            async def tried_twice() -> bool:
                told = await ledger.story(vendor.name, key)
                return told is not None and told.intent.attempts >= 2

            await eventually(tried_twice, "two attempts")
            simulator.set_faults(FaultConfig())
            (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then it was applied, and counted as redelivered once, with its delivery count logged
    assert event.status is OutcomeStatus.APPLIED
    assert sample(world, "hub_broker_redeliveries_total", office=world.office) == 1
    logged = [r.getMessage() for r in caplog.records if r.name.endswith("broker_events")]
    assert logged == ["the broker delivered this message again (delivery count 1)"]


async def _take_and_give_back(settings: HubSettings, queue_name: str) -> None:
    """Consume one message of ``queue_name`` and close the channel without acking it."""
    async with await aio_pika.connect(settings.broker_url.get_secret_value()) as connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=False)
        taken: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        await queue.consume(taken.put)
        async with asyncio.timeout(GUARD_S):  # a guard, not a timing
            await taken.get()
