"""The run's throwaway MariaDB databases: the ledger (migrated before the writer starts, as a
writer restarting in production finds it) and the office database the simulator creates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomysql

from hub.ledger import migrate
from hub.settings import MySqlSettings
from lab.throwaway_databases import drop_databases


async def _connect(account: MySqlSettings) -> aiomysql.Connection:
    return await aiomysql.connect(
        host=account.host, port=account.port, user=account.user,
        password=account.password.get_secret_value(), autocommit=True,
    )


async def drop_database(account: MySqlSettings, database: str) -> None:
    """Drop it and the grants on it."""
    conn = await _connect(account)
    try:
        await drop_databases(conn, [database])
    finally:
        conn.close()


@asynccontextmanager
async def ledger_database(account: MySqlSettings, database: str) -> AsyncIterator[MySqlSettings]:
    """A migrated ledger named ``database`` on ``account``'s server; dropped on exit."""
    settings = account.model_copy(update={"database": database})
    try:
        await migrate(settings)
        yield settings
    finally:
        await drop_database(account, database)
