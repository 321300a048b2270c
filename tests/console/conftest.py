"""Console fixtures: the writer's test world (tests/writer/conftest.py), a private dead-letter
queue (``hub.dead`` is every test's), a users file with a viewer, an operator and an admin, and
the console served over them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aio_pika.abc import AbstractRobustChannel
from aiohttp.test_utils import TestServer

from hub.console import Console
from hub.dlq import DlqNames
from hub.settings import HubSettings, MySqlSettings
from tests.console.support import console_settings, serving, write_users
from tests.writer.conftest import (
    hub_channel,
    ledger,
    ledger_db,
    make_world,
    management,
    simulator,
)

__all__ = ["hub_channel", "ledger", "ledger_db", "make_world", "management", "simulator"]


@pytest.fixture
async def dead_queue(hub_channel: AbstractRobustChannel) -> AsyncIterator[str]:
    queue = await hub_channel.declare_queue(f"t-cdead-{uuid.uuid4().hex[:10]}", durable=True)
    yield queue.name
    await queue.delete(if_unused=False, if_empty=False)


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    return write_users(tmp_path / "console-users.toml")


@pytest.fixture
def console(ledger_db: MySqlSettings, users_file: Path, dead_queue: str) -> Console:
    settings = console_settings(HubSettings(ledger_db=ledger_db), users_file, login_failures=3)
    return Console.of(settings, {}, where=DlqNames(queue=dead_queue))


@pytest.fixture
async def server(console: Console) -> AsyncIterator[TestServer]:
    async with serving(console) as started:
        yield started
