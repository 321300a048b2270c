"""The run's throwaway MariaDB databases: the ledger (migrated before the writer starts, as a
writer restarting in production finds it) and the office database the simulator creates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

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


@dataclass(frozen=True, kw_only=True)
class LedgerTable:
    """One ledger table's rows and its size on disk as InnoDB counts it (whole 16 KiB pages,
    after ANALYZE TABLE), for the capacity plan's bytes per intent."""

    table: str
    rows: int
    data_bytes: int
    index_bytes: int


async def ledger_footprint(account: MySqlSettings, database: str) -> tuple[LedgerTable, ...]:
    """Every ledger table that holds a row."""
    conn = await _connect(account)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (database,),
            )
            tables = sorted(row[0] for row in await cur.fetchall())
            found = []
            for table in tables:
                await cur.execute(f"ANALYZE TABLE `{database}`.`{table}`")
                await cur.fetchall()
                await cur.execute(f"SELECT COUNT(*) FROM `{database}`.`{table}`")
                (rows,) = await cur.fetchone()
                await cur.execute(
                    "SELECT data_length, index_length FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_name = %s", (database, table),
                )
                data, index = await cur.fetchone()
                if rows:
                    found.append(LedgerTable(
                        table=table, rows=int(rows), data_bytes=int(data), index_bytes=int(index)
                    ))
            return tuple(found)
    finally:
        conn.close()
