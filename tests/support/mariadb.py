"""Throwaway MariaDB databases for tests: each test gets its own, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomysql

from hub.settings import MySqlSettings

ROOT = MySqlSettings(host="127.0.0.1", port=3306, user="root", database="mysql")


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def _connect_as_root() -> aiomysql.Connection:
    return await aiomysql.connect(
        host=ROOT.host, port=ROOT.port, user=ROOT.user,
        password=ROOT.password.get_secret_value(), autocommit=True,
    )


async def _execute_as_root(sql: str) -> None:
    conn = await _connect_as_root()
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql)
    finally:
        conn.close()


async def drop_database(name: str) -> None:
    """Drop the database and the grants on it (the simulator grants its read-only user SELECT on
    each office database; a grant outlives its database and would pile up in mysql.db)."""
    conn = await _connect_as_root()
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            await cur.execute("SELECT User, Host FROM mysql.db WHERE Db = %s", (name,))
            for user, host in await cur.fetchall():
                await cur.execute(f"REVOKE ALL PRIVILEGES ON `{name}`.* FROM %s@%s", (user, host))
    finally:
        conn.close()


async def root_sql(sql: str) -> None:
    """One statement as root (account changes a test makes)."""
    await _execute_as_root(sql)


@asynccontextmanager
async def read_only_account(user: str, password: str, database: str) -> AsyncIterator[None]:
    """A SELECT-only account of the test's own on ``database``, dropped on exit."""
    await _execute_as_root(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    try:
        await _execute_as_root(f"GRANT SELECT ON `{database}`.* TO '{user}'@'%'")
        yield
    finally:
        await _execute_as_root(f"DROP USER IF EXISTS '{user}'@'%'")


@asynccontextmanager
async def throwaway_database(prefix: str) -> AsyncIterator[str]:
    """Create an empty database with a unique name; drop it on exit."""
    name = unique_name(prefix)
    await _execute_as_root(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield name
    finally:
        await drop_database(name)
