"""The run's throwaway MariaDB databases: the ledger (migrated before the writer starts, as a
writer restarting in production finds it) and the office database the simulator creates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomysql

from hub.ledger import migrate
from hub.settings import MySqlSettings


async def _connect(account: MySqlSettings) -> aiomysql.Connection:
    return await aiomysql.connect(
        host=account.host, port=account.port, user=account.user,
        password=account.password.get_secret_value(), autocommit=True,
    )


async def drop_database(account: MySqlSettings, database: str) -> None:
    """Drop it and the grants on it: the simulator grants its read-only user SELECT on each
    office database, and a grant outlives its database."""
    conn = await _connect(account)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            await cur.execute("SELECT User, Host FROM mysql.db WHERE Db = %s", (database,))
            for user, host in await cur.fetchall():
                await cur.execute(
                    f"REVOKE ALL PRIVILEGES ON `{database}`.* FROM %s@%s", (user, host)
                )
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
