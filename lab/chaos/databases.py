"""The run's throwaway MariaDB databases, made and dropped with the ledger's account (root on a
developer's machine): the ledger's and the office databases the simulator seeds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiomysql

from hub.settings import MySqlSettings
from lab.chaos.config import ChaosError
from lab.throwaway_databases import drop_databases as drop_throwaway

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


async def check_connections(account: MySqlSettings, needed: int) -> None:
    """Refuse to start a run MariaDB has no room for: a writer short of connections exits on
    error 1040 and its supervisor starts it again, over and over, which is not the run's fault
    to measure. ``needed``: the run's estimate."""
    async with _connection(account) as conn, conn.cursor() as cur:
        await cur.execute("SELECT @@global.max_connections, (SELECT COUNT(*) FROM "
                          "information_schema.PROCESSLIST)")
        limit, used = await cur.fetchone()
    if limit - used < needed:
        raise ChaosError(
            f"MariaDB allows {limit} connections and {used} are open; this run needs about "
            f"{needed} (each writer keeps a read-only connection to every office database it "
            "has served, and its ledger pool). Raise max_connections: scripts/ensure-services.sh "
            "sets it to at least 1000, or SET GLOBAL max_connections = 1000 as root."
        )


async def create_database(account: MySqlSettings, name: str) -> None:
    async with _connection(account) as conn, conn.cursor() as cur:
        await cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")


async def drop_databases(account: MySqlSettings, names: Sequence[str]) -> None:
    async with _connection(account) as conn:
        await drop_throwaway(conn, names)
