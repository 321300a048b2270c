"""Create an office database: Open Dental's tables, the seed, and the SELECT-only user."""

from __future__ import annotations

import asyncio

import aiomysql

from odsim.catalog import load_catalog
from odsim.db import DbParams, connect
from odsim.ddl import office_ddl
from odsim.seed import seed_office

READONLY_HOSTS = ("%", "localhost", "127.0.0.1")


def _quote_name(name: str) -> str:
    if "`" in name:
        raise ValueError("database names may not contain backquotes")
    return f"`{name}`"


async def _grant_read_only(cur: aiomysql.Cursor, database: str, user: str, password: str) -> None:
    for host in READONLY_HOSTS:
        await cur.execute(
            "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (user, host, password)
        )
        await cur.execute(f"GRANT SELECT ON {_quote_name(database)}.* TO %s@%s", (user, host))


async def ensure_office_database(
    conn_params: DbParams,
    database: str,
    *,
    dev_name: str,
    customer_keys: list[str],
    reset: bool = False,
    readonly_user: str = "od_readonly",
    readonly_password: str = "od_readonly",
) -> None:
    """Idempotently create ``database`` with Open Dental's tables, seed it, and grant the
    read-only user SELECT on it. ``reset`` drops the database first."""
    await asyncio.to_thread(load_catalog)
    conn = await connect(conn_params)
    try:
        async with conn.cursor() as cur:
            # "already exists" notes would surface as Python warnings on every idempotent run.
            await cur.execute("SET SESSION sql_notes = 0")
            if reset:
                await cur.execute(f"DROP DATABASE IF EXISTS {_quote_name(database)}")
            await cur.execute(
                f"CREATE DATABASE IF NOT EXISTS {_quote_name(database)} CHARACTER SET utf8mb4"
            )
            await cur.execute(f"USE {_quote_name(database)}")
            for statement in office_ddl():
                await cur.execute(statement)
            await seed_office(cur, dev_name=dev_name, customer_keys=customer_keys)
            await _grant_read_only(cur, database, readonly_user, readonly_password)
    finally:
        conn.close()
