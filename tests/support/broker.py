"""Broker fixtures for tests against the real RabbitMQ: the hub's settings, its management API
and its own (guest) channel. A conftest imports the ones its tests use."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aio_pika.abc import AbstractRobustChannel

from hub.broker_admin import ManagementApi, management_api
from hub.broker_connection import robust_channel
from hub.settings import HubSettings
from hub.topology import declare_exchanges


@pytest.fixture
def settings() -> HubSettings:
    return HubSettings()


@pytest.fixture
async def management(settings: HubSettings) -> AsyncIterator[ManagementApi]:
    async with management_api(settings) as api:
        yield api


@pytest.fixture
async def hub_channel(settings: HubSettings) -> AsyncIterator[AbstractRobustChannel]:
    """The hub's own (guest) channel, with the shared exchanges declared."""
    async with robust_channel(settings.broker_url) as channel:
        await declare_exchanges(channel)
        yield channel
