"""The topology: idempotent, quorum office queues with SAC/delivery limit/DLX, exact routing."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustChannel

from hub import names
from hub.broker_admin import ManagementApi
from hub.settings import HubSettings
from hub.topology import Topology, TopologyError, declare_office_queue, declare_topology
from tests.topology.conftest import Created


async def first_message(channel: AbstractChannel, queue_name: str) -> AbstractIncomingMessage:
    """The next message of a queue, by consuming: basic.get is refused on a SAC quorum queue."""
    queue = await channel.get_queue(queue_name, ensure=False)
    async with asyncio.timeout(10), queue.iterator() as messages:  # a guard, not an assertion
        async for message in messages:
            await message.ack()
            return message
    raise AssertionError("the queue iterator ended")


async def test_declaring_twice_changes_nothing(
    hub_channel: AbstractRobustChannel, management: ManagementApi, created: Created
) -> None:
    # Given a topology with one office and one vendor, declared once, with an intent queued
    topology = Topology(offices=(created.office(),), vendors=(created.vendor(),), delivery_limit=7)
    office_queue = names.office_queue(topology.offices[0])
    await declare_topology(hub_channel, topology)
    before = await management.queue(office_queue)
    intents = await hub_channel.get_exchange(names.INTENTS_EXCHANGE)
    await intents.publish(aio_pika.Message(b"kept"), f"{topology.offices[0]}.patient.create")

    # When it is declared again
    await declare_topology(hub_channel, topology)

    # Then the queue is the same and its intent is still there
    assert await management.queue(office_queue) == before
    assert (await first_message(hub_channel, office_queue)).body == b"kept"


async def test_office_and_outcome_queues_have_the_documented_arguments(
    hub_channel: AbstractRobustChannel, management: ManagementApi, created: Created
) -> None:
    # Given a declared topology with a delivery limit of 7
    office, vendor = created.office(), created.vendor()
    await declare_topology(
        hub_channel, Topology(offices=(office,), vendors=(vendor,), delivery_limit=7)
    )

    # When the management API describes the queues
    office_queue = await management.queue(names.office_queue(office))
    outcome_queue = await management.queue(names.outcome_queue(vendor))
    dead_queue = await management.queue(names.DEAD_LETTER_QUEUE)

    # Then the office queue is a durable quorum queue, single consumer, dead-lettering by office
    assert office_queue is not None and office_queue.durable and office_queue.type == "quorum"
    assert office_queue.arguments["x-single-active-consumer"] is True
    assert office_queue.arguments["x-delivery-limit"] == 7
    assert office_queue.arguments["x-dead-letter-exchange"] == "hub.dlx"
    assert office_queue.arguments["x-dead-letter-routing-key"] == f"dead.{office}"
    assert office_queue.arguments["x-dead-letter-strategy"] == "at-least-once"
    # And the vendor's outcome queue and the dead-letter queue are durable quorum queues
    assert outcome_queue is not None and outcome_queue.durable and outcome_queue.type == "quorum"
    assert dead_queue is not None and dead_queue.durable and dead_queue.type == "quorum"


async def test_declaring_with_other_arguments_fails_naming_the_queue(
    hub_channel: AbstractRobustChannel, management: ManagementApi, created: Created
) -> None:
    # Given an office queue declared with the default delivery limit
    office = created.office()
    await declare_office_queue(hub_channel, office)

    # When it is declared with another delivery limit
    with pytest.raises(TopologyError) as refused:
        await declare_office_queue(hub_channel, office, delivery_limit=5)

    # Then the error names the queue and the broker's reason, and the queue is unchanged
    assert f"queue hub.office.{office} already exists with other arguments" in str(refused.value)
    assert "PRECONDITION_FAILED" in str(refused.value)
    existing = await management.queue(names.office_queue(office))
    assert existing is not None and existing.arguments["x-delivery-limit"] == 20


async def test_an_intent_is_routed_to_its_office_queue_only(
    hub_channel: AbstractRobustChannel, created: Created
) -> None:
    # Given two offices
    office, other = created.office(), created.office()
    await declare_topology(hub_channel, Topology(offices=(office, other), vendors=()))

    # When an intent for the first office is published, then a marker for the other office
    intents = await hub_channel.get_exchange(names.INTENTS_EXCHANGE)
    key = names.intent_key(office, "appointment.create")
    await intents.publish(aio_pika.Message(b"intent"), key, mandatory=True)
    await intents.publish(aio_pika.Message(b"marker"), names.intent_key(other, "patient.create"))

    # Then the intent is in its office's queue, and the other office's queue begins at the marker
    message = await first_message(hub_channel, names.office_queue(office))
    assert (message.routing_key, message.body) == (key, b"intent")
    assert (await first_message(hub_channel, names.office_queue(other))).body == b"marker"


async def test_an_intent_for_an_unknown_office_is_returned_not_lost(
    hub_channel: AbstractRobustChannel, settings: HubSettings, created: Created
) -> None:
    # Given the exchanges (hub_channel), no queue for an office, and a publisher with confirms
    unknown = created.office()
    async with await aio_pika.connect(settings.broker_url.get_secret_value()) as connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        intents = await channel.get_exchange(names.INTENTS_EXCHANGE)

        # When an intent for that office is published as mandatory
        publishing = intents.publish(aio_pika.Message(b"{}"), f"{unknown}.patient.create")

        # Then the broker returns it to the publisher
        with pytest.raises(aio_pika.exceptions.PublishError):
            await publishing
