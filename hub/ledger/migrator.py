"""Apply the ledger's migrations: create the database if missing, then each missing version in
order, recording it in ``schema_migrations``. Idempotent, and safe when two writers start at
once: a named lock (``GET_LOCK``) lets one migrate while the other waits, then finds nothing to do.

MariaDB commits DDL implicitly, so a migration that fails half way is not rolled back: its
version stays unrecorded and the error says which one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import pairwise

import aiomysql

import hub.ledger.constants as c
from hub.errors import LedgerError, TransientError
from hub.ledger.migrations import MIGRATIONS, SCHEMA_MIGRATIONS_DDL, Migration
from hub.ledger.mysql_errors import DRIVER_FAILURES, translated
from hub.settings import MySqlSettings
from hub.tls import handshake, mysql_ssl


@dataclass(frozen=True, kw_only=True)
class MigrationState:
    version: int
    name: str
    applied_at: datetime | None  # None: not applied yet
    known: bool = True  # False: recorded by a newer build than this one


async def migrate(
    settings: MySqlSettings, migrations: Sequence[Migration] = MIGRATIONS
) -> list[int]:
    """Bring the ledger database up to date; the versions applied now, in order."""
    check_order(migrations)
    with translated("migrating"):
        conn = await _connect(settings)
        try:
            async with conn.cursor() as cur:
                # The lock is held until the connection ends, which ``_quit`` makes sure of.
                await _take_lock(cur, lock_name(settings.database))
                await _ensure_database(cur, settings.database)
                await cur.execute(f"USE {quote_name(settings.database)}")
                if not await _table_exists(cur, settings.database, "schema_migrations"):
                    await cur.execute(SCHEMA_MIGRATIONS_DDL)
                return await _apply_missing(cur, migrations)
        finally:
            await _quit(conn)


async def migration_status(
    settings: MySqlSettings, migrations: Sequence[Migration] = MIGRATIONS
) -> list[MigrationState]:
    """Every known version with when it was applied, plus any recorded version this build lacks."""
    with translated("reading migration status"):
        conn = await _connect(settings)
        try:
            async with conn.cursor() as cur:
                recorded = await _recorded(cur, settings.database)
        finally:
            await _quit(conn)
    ours = [
        recorded.get(m.version) or MigrationState(version=m.version, name=m.name, applied_at=None)
        for m in migrations
    ]
    versions = {m.version for m in migrations}
    theirs = [
        replace(state, known=False)
        for version, state in sorted(recorded.items())
        if version not in versions
    ]
    return ours + theirs


def check_order(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if any(later <= earlier for earlier, later in pairwise(versions)):
        raise ValueError("migration versions must be unique and increasing")


def lock_name(database: str) -> str:
    """One lock per database: migrating one database never waits for another."""
    return f"{c.MIGRATION_LOCK_PREFIX}.{database}"[: c.MAX_LOCK_NAME_CHARS]


def quote_name(name: str) -> str:
    if "`" in name or not name:
        raise ValueError("database names must be non-empty and without backquotes")
    return f"`{name}`"


async def _connect(settings: MySqlSettings) -> aiomysql.Connection:
    where = f"{settings.host}:{settings.port}"
    with handshake("the hub database", where, tls=settings.tls):
        return await aiomysql.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password.get_secret_value(),
            autocommit=True,
            charset="utf8mb4",
            ssl=mysql_ssl(settings),
        )


async def _quit(conn: aiomysql.Connection) -> None:
    """End the session politely so the server frees the lock at once; drop it if that fails."""
    try:
        await conn.ensure_closed()
    except DRIVER_FAILURES:
        conn.close()


async def _take_lock(cur: aiomysql.Cursor, name: str) -> None:
    await cur.execute("SELECT GET_LOCK(%s, %s)", (name, c.MIGRATION_LOCK_TIMEOUT_S))
    (got,) = await cur.fetchone()
    if got == 0:
        raise TransientError(
            f"another process held the migration lock for {c.MIGRATION_LOCK_TIMEOUT_S} s"
        )
    if got != 1:
        raise LedgerError("the ledger database would not grant the migration lock")


async def _ensure_database(cur: aiomysql.Cursor, database: str) -> None:
    # Checked first: CREATE DATABASE IF NOT EXISTS leaves a note that surfaces as a warning.
    await cur.execute(
        "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (database,)
    )
    if await cur.fetchone() is None:
        await cur.execute(
            f"CREATE DATABASE {quote_name(database)} "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )


async def _table_exists(cur: aiomysql.Cursor, database: str, table: str) -> bool:
    await cur.execute(
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (database, table),
    )
    return await cur.fetchone() is not None


async def _apply_missing(cur: aiomysql.Cursor, migrations: Sequence[Migration]) -> list[int]:
    await cur.execute("SELECT version FROM schema_migrations")
    applied = {version for (version,) in await cur.fetchall()}
    done: list[int] = []
    for migration in migrations:
        if migration.version in applied:
            continue
        for statement in migration.statements:
            await cur.execute(statement)
        # Recorded right after its own statements: a later failure keeps this one applied.
        await cur.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) "
            "VALUES (%s, %s, UTC_TIMESTAMP(6))",
            (migration.version, migration.name),
        )
        done.append(migration.version)
    return done


async def _recorded(cur: aiomysql.Cursor, database: str) -> dict[int, MigrationState]:
    if not await _table_exists(cur, database, "schema_migrations"):
        return {}
    await cur.execute(
        f"SELECT version, name, applied_at FROM {quote_name(database)}.schema_migrations"
    )
    return {
        version: MigrationState(version=version, name=name, applied_at=at.replace(tzinfo=UTC))
        for version, name, at in await cur.fetchall()
    }
