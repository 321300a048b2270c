"""The writer (``hub worker``'s parts, as bootstrap builds them) records every dead letter that
outlives the dead-letter queue's retention, and counts it by office and vendor.

The dead queue, its expiry route and its policy are the test's own (a 1 s retention), never
``hub.dead``; a dead letter is published to it as the writer's finishing step would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustChannel
from pamqp.commands import Basic

from hub import bootstrap, names
from hub.broker_admin import ManagementApi
from hub.dlq.expiries import ExpiryFilter, mysql_expiries
from hub.dlq.retention import RetentionNames, apply_retention
from hub.topology import declare_expiry_route, quorum_queue_arguments
from tests.writer.conftest import MakeWorld
from tests.writer.support import World, eventually

ONE_SECOND_D = 1 / 86_400  # HUB_DEAD_RETENTION_DAYS for a retention of 1 s


@pytest.fixture
async def own_dead_queue(
    hub_channel: AbstractRobustChannel, management: ManagementApi
) -> AsyncIterator[RetentionNames]:
    """A dead queue with its expiry route and a 1 s retention policy, deleted after the test."""
    prefix = f"t.expiry.{uuid.uuid4().hex[:10]}."
    where = RetentionNames(
        dead_queue=f"{prefix}dead", expired_exchange=f"{prefix}expired",
        expired_queue=f"{prefix}expired", policy=f"t-expiry-{uuid.uuid4().hex[:10]}",
    )
    arguments = dict(quorum_queue_arguments())
    await hub_channel.declare_queue(where.dead_queue, durable=True, arguments=arguments)
    await declare_expiry_route(hub_channel, where)
    await apply_retention(management, where, ONE_SECOND_D)
    yield where
    await management.delete_policy(where.policy)
    for queue in (where.dead_queue, where.expired_queue):
        await management.delete_queue(queue)
    await hub_channel.exchange_delete(where.expired_exchange)


async def test_the_writer_records_and_counts_each_dead_letter_that_expires(
    make_world: MakeWorld, own_dead_queue: RetentionNames, hub_channel: AbstractRobustChannel
) -> None:
    # Given a writer built for the test's dead queue, and one of its office's dead letters there
    world = await make_world()
    where = own_dead_queue
    async with bootstrap.writer(
        world.settings, world.registry, metrics_registry=world.metrics, retention=where
    ):
        await _dead_letter(world, where)

        # When its retention runs out, Then the writer records it by intent id
        async def recorded() -> bool:
            async with mysql_expiries(world.settings.ledger_db) as store:
                return bool(await store.rows(ExpiryFilter(office=world.office)))

        await eventually(recorded, "the expiry is recorded")
    async with mysql_expiries(world.settings.ledger_db) as store:
        (row,) = await store.rows(ExpiryFilter())
    assert (row.expiry.intent_id, row.expiry.vendor, row.expiry.reason) == (
        7, world.vendor.name, "invalid"
    )
    # And counts it under the office and vendor of the registry
    labels = {"office": world.office, "vendor": world.vendor.name}
    assert world.metrics.get_sample_value("hub_dead_letters_expired_total", labels) == 1


async def _dead_letter(world: World, where: RetentionNames) -> None:
    """A rejected intent as the writer dead-letters it (x-hub-* headers), confirmed."""
    async with await aio_pika.connect(
        world.settings.broker_url.get_secret_value()
    ) as connection:
        channel = await connection.channel(publisher_confirms=True)
        message = aio_pika.Message(
            b'{"payload": {"LName": "Secret"}}', message_id="m-1", delivery_mode=2,
            headers={
                names.HEADER_REASON: "invalid", names.HEADER_VENDOR: world.vendor.name,
                names.HEADER_OFFICE: world.office, names.HEADER_CONTRACT: "patient.create",
                names.HEADER_IDEMPOTENCY_KEY: "k-1", names.HEADER_INTENT_ID: 7,
            },
        )
        confirm = await channel.default_exchange.publish(message, where.dead_queue)
        assert isinstance(confirm, Basic.Ack)
