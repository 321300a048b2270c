"""The run's throwaway MariaDB databases, made and dropped with the ledger's account (root on a
developer's machine): the ledger's and the office databases the simulator seeds.

Dropping also revokes the grants on them: the simulator grants its read-only user SELECT on each
office database, and a grant outlives its database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiomysql

from hub.chaos.config import ChaosError
from hub.settings import MySqlSettings

CONNECT_TIMEOUT_S = 10


@asynccontextmanager
async def _connection(account: MySqlSettings) -> AsyncIterator[aiomysql.Connection]:
    try:
        conn = await aiomysql.connect(
            host=account.host, port=account.port, user=account.user,
            password=account.password.get_secret_value(), autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
    except aiomysql.MySQLError as exc:
        raise ChaosError(f"cannot reach MariaDB at {account.host}:{account.port} ({exc})") from exc
    try:
        yield conn
    finally:
        conn.close()


async def create_database(account: MySqlSettings, name: str) -> None:
    async with _connection(account) as conn, conn.cursor() as cur:
        await cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")


async def drop_databases(account: MySqlSettings, names: Sequence[str]) -> None:
    async with _connection(account) as conn, conn.cursor() as cur:
        for name in names:
            await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            await cur.execute("SELECT User, Host FROM mysql.db WHERE Db = %s", (name,))
            for user, host in await cur.fetchall():
                await cur.execute(f"REVOKE ALL PRIVILEGES ON `{name}`.* FROM %s@%s", (user, host))
