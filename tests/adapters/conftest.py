"""Broker fixtures for the vendor side: a real vendor user per test, with an agreement for two
unique offices (one with a queue, one without), all removed at teardown; and a capture of every
intent published for the first office."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import pytest
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
)
from pydantic import SecretStr
from yarl import URL

from hub import names
from hub.broker_admin import ManagementApi
from hub.registry import V1_CONTRACTS, Agreement, Vendor
from hub.settings import HubSettings
from hub.topology import declare_office_queue
from hub.vendor_access import add_vendor

# Shared fixtures: imported here, pytest offers them to the tests below (`x as x` re-exports).
from tests.support.broker import hub_channel as hub_channel
from tests.support.broker import management as management
from tests.support.broker import settings as settings


@dataclass(frozen=True, kw_only=True)
class VendorAccount:
    name: str
    password: str
    office: str  # in the agreement, with its queue declared
    unserved_office: str  # in the agreement, but no queue: its intents are unroutable
    broker_host: str
    broker_port: int

    def url(self, port: int | None = None) -> SecretStr:
        """The vendor's login on the broker, or on a proxy listening on ``port``."""
        url = URL.build(
            scheme="amqp",
            user=self.name,
            password=self.password,
            host=self.broker_host,
            port=port or self.broker_port,
            path="/",
        )
        return SecretStr(str(url))


def unique(kind: str) -> str:
    return f"t-{kind}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def vendor(
    settings: HubSettings, management: ManagementApi, hub_channel: AbstractRobustChannel
) -> AsyncIterator[VendorAccount]:
    name, office, unserved = unique("vendor"), unique("office"), unique("office")
    agreements = tuple(Agreement(office=o, contracts=V1_CONTRACTS) for o in (office, unserved))
    try:
        await declare_office_queue(hub_channel, office)
        added = await add_vendor(management, hub_channel, Vendor(name=name, agreements=agreements))
        assert added.password is not None
        broker = URL(settings.broker_url.get_secret_value())
        yield VendorAccount(
            name=name,
            password=added.password.get_secret_value(),
            office=office,
            unserved_office=unserved,
            broker_host=broker.host or "127.0.0.1",
            broker_port=broker.port or 5672,
        )
    finally:
        # Through the management API: deleting the user also closes its connections.
        await management.delete_user(name)
        await management.delete_queue(names.outcome_queue(name))
        await management.delete_queue(names.office_queue(office))
        await management.delete_queue(names.office_queue(unserved))  # a test may declare it


@dataclass(frozen=True)
class Capture:
    """A queue of the test's own, bound to every intent routing key of one office."""

    queue: AbstractQueue

    async def taken(self) -> list[AbstractIncomingMessage]:
        """Every message that reached the queue since the last call. A publish is confirmed
        once it is in its queues, so this holds whatever the adapter had confirmed."""
        messages: list[AbstractIncomingMessage] = []
        while (message := await self.queue.get(no_ack=True, fail=False)) is not None:
            messages.append(message)
        return messages


@pytest.fixture
async def capture(vendor: VendorAccount, hub_channel: AbstractRobustChannel) -> Capture:
    """Every intent published for the vendor's office from now on (a classic exclusive queue,
    so basic.get works; it goes with the channel)."""
    queue = await hub_channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(names.INTENTS_EXCHANGE, f"{vendor.office}.#")
    return Capture(queue)


async def take(
    channel: AbstractChannel, queue_name: str, count: int
) -> list[AbstractIncomingMessage]:
    """The next ``count`` messages of a queue, acked, by consuming (basic.get is refused on a
    single-active-consumer quorum queue)."""
    queue = await channel.get_queue(queue_name, ensure=False)
    taken: list[AbstractIncomingMessage] = []
    async with asyncio.timeout(10), queue.iterator() as messages:  # a guard, not an assertion
        async for message in messages:
            await message.ack()
            taken.append(message)
            if len(taken) == count:
                break
    return taken


async def take_until_seen(
    channel: AbstractChannel, queue_name: str, keys: Iterable[str]
) -> list[AbstractIncomingMessage]:
    """Messages of a queue, acked, until one with each of ``keys`` as message_id has arrived;
    duplicates (a message the publisher sent again) are taken along."""
    missing = set(keys)
    queue = await channel.get_queue(queue_name, ensure=False)
    taken: list[AbstractIncomingMessage] = []
    async with asyncio.timeout(10), queue.iterator() as messages:  # a guard, not an assertion
        async for message in messages:
            await message.ack()
            taken.append(message)
            missing.discard(message.message_id or "")
            if not missing:
                break
    return taken
