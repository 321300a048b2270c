"""The audit trail's tests: a throwaway hub database migrated (``operator_audit`` and its
triggers included), and the broker fixtures of tests/topology for the commands that change
broker users."""

from __future__ import annotations

import pytest

from hub.ledger import migrate
from hub.settings import MySqlSettings
from tests.ledger.conftest import settings_for

# Shared fixtures: imported here, pytest offers them to the tests below (`x as x` re-exports).
from tests.support.broker import hub_channel as hub_channel
from tests.support.broker import management as management
from tests.support.broker import settings as settings
from tests.topology.conftest import created as created


@pytest.fixture
async def hub_db(empty_database: str) -> MySqlSettings:
    migrated = settings_for(empty_database)
    await migrate(migrated)
    return migrated

