"""Ledger fixtures: a migrated throwaway database and ledgers (each with its own pool) on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiomysql
import pytest

from hub.ledger import MySqlLedger, migrate
from hub.settings import MySqlSettings
from tests.support.mariadb import ROOT


def settings_for(database: str, *, port: int = ROOT.port) -> MySqlSettings:
    # Every field explicit: MySqlSettings would otherwise read bare USER/HOST/... variables.
    return MySqlSettings(
        host=ROOT.host, port=port, user=ROOT.user, password=ROOT.password, database=database
    )


async def root_connection(database: str | None = None) -> aiomysql.Connection:
    return await aiomysql.connect(
        host=ROOT.host, port=ROOT.port, user=ROOT.user,
        password=ROOT.password.get_secret_value(), db=database, autocommit=True,
    )


@pytest.fixture
async def ledger_db(empty_database: str) -> MySqlSettings:
    settings = settings_for(empty_database)
    await migrate(settings)
    return settings


@pytest.fixture
async def ledger(ledger_db: MySqlSettings) -> AsyncIterator[MySqlLedger]:
    opened = await MySqlLedger.open(ledger_db)
    yield opened
    await opened.close()


@pytest.fixture
async def rival_ledger(ledger_db: MySqlSettings) -> AsyncIterator[MySqlLedger]:
    """A second writer on the same database, with a pool of its own."""
    opened = await MySqlLedger.open(ledger_db, max_connections=8)
    yield opened
    await opened.close()
