"""Outbox tests reuse the writer's throwaway migrated ledger, the test's own broker channel and
the management API (tests/writer/conftest.py); plus a confirming channel such as the writer
publishes on, and a vendor's outcome queue of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from hub import names
from hub.broker_admin import ManagementApi
from hub.settings import HubSettings
from tests.writer.conftest import hub_channel, ledger_db, management
from tests.writer.support import unique

__all__ = ["hub_channel", "ledger_db", "management"]


@pytest.fixture
async def publish_channel() -> AsyncIterator[AbstractChannel]:
    """Publisher confirms, and a returned message raises: the writer's publish channel."""
    url = HubSettings().broker_url.get_secret_value()
    async with await aio_pika.connect(url) as connection:
        yield await connection.channel(publisher_confirms=True, on_return_raises=True)


@pytest.fixture
async def vendor(management: ManagementApi) -> AsyncIterator[str]:
    """A vendor name of the test's own; its outcome queue, if the test declares it, is deleted
    afterwards."""
    name = unique("t-vendor")
    yield name
    await management.delete_queue(names.outcome_queue(name))
