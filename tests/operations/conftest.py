"""Operations tests reuse the writer's world (tests/writer/conftest.py): a real simulator, a
throwaway migrated ledger, real vendor broker users; plus the hub database's control store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hub.control.store import ControlStore
from hub.ledger.mysql_session import ignore_query
from hub.settings import MySqlSettings
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
async def store(ledger_db: MySqlSettings) -> AsyncIterator[ControlStore]:
    opened = await ControlStore.open(ledger_db, on_query=ignore_query)
    yield opened
    await opened.close()
