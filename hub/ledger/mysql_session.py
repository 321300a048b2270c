"""The ledger's MariaDB plumbing: an aiomysql pool, short transactions and timed statements.

Every transaction commits on a clean exit and is abandoned otherwise; a unit of work that is one
statement runs in autocommit instead (one round trip, not three), and one whose statements do not
depend on each other's results goes as one multi-statement transaction (one round trip too).
Driver failures leave as ``TransientError`` or ``LedgerError`` (see ``mysql_errors``).

Multi-statement queries are enabled on the pool's connections for that. Every value still goes
through the driver's escaping (``%s`` arguments), never into the SQL text.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import aiomysql
from pymysql.constants import CLIENT

from hub.errors import TransientError
from hub.ledger.constants import LOCK_WAIT_TIMEOUT_S
from hub.ledger.mysql_errors import DRIVER_FAILURES, error_code, translated
from hub.ledger.port import QueryObserver
from hub.settings import MySqlSettings

# READ COMMITTED: a claim of a key nobody holds yet takes no gap lock, so two writers claiming
# new keys side by side do not deadlock on each other's gaps; a short lock wait turns a stuck
# holder into a TransientError instead of a stalled lane.
SESSION_SETUP = (
    "SET SESSION tx_isolation = 'READ-COMMITTED', "
    f"SESSION innodb_lock_wait_timeout = {LOCK_WAIT_TIMEOUT_S}"
)
POOL_RECYCLE_S = 3600
DUPLICATE_KEY = 1062  # ER_DUP_ENTRY

# A row as the driver returns it; mapped into dataclasses by the adapter, never passed out.
Record: TypeAlias = dict[str, Any]
SqlArgs: TypeAlias = Sequence[object]


def ignore_query(name: str, duration_s: float) -> None:
    """The default observer: statement timings go nowhere until metrics are wired in."""


class Statements:
    """One connection inside one transaction. Each statement is named for the observer."""

    def __init__(self, cursor: aiomysql.DictCursor, on_query: QueryObserver) -> None:
        self._cursor = cursor
        self._on_query = on_query

    async def execute(self, name: str, sql: str, args: SqlArgs = ()) -> int:
        """Run one statement; the number of rows it affected."""
        started = time.perf_counter()
        try:
            affected: int = await self._cursor.execute(sql, args)
        finally:
            self._on_query(name, time.perf_counter() - started)
        return affected

    async def insert_new(self, name: str, sql: str, args: SqlArgs = ()) -> int | None:
        """Run an INSERT; the new row's id, or None when its unique key is already taken."""
        try:
            await self.execute(name, sql, args)
        except aiomysql.IntegrityError as exc:
            if error_code(exc) != DUPLICATE_KEY:
                raise
            return None
        return self.last_insert_id

    async def fetch_one(self, name: str, sql: str, args: SqlArgs = ()) -> Record | None:
        await self.execute(name, sql, args)
        row: Record | None = await self._cursor.fetchone()
        return row

    async def fetch_all(self, name: str, sql: str, args: SqlArgs = ()) -> list[Record]:
        await self.execute(name, sql, args)
        return list(await self._cursor.fetchall())

    @property
    def last_insert_id(self) -> int:
        row_id: int = self._cursor.lastrowid
        return row_id


class MySqlSession:
    """An aiomysql pool handing out one short transaction at a time."""

    def __init__(self, pool: aiomysql.Pool, on_query: QueryObserver) -> None:
        self._pool = pool
        self._on_query = on_query

    @classmethod
    async def open(
        cls, settings: MySqlSettings, *, on_query: QueryObserver, max_connections: int
    ) -> MySqlSession:
        with translated("connecting"):
            pool = await aiomysql.create_pool(
                host=settings.host,
                port=settings.port,
                user=settings.user,
                password=settings.password.get_secret_value(),
                db=settings.database,
                minsize=1,
                maxsize=max_connections,
                autocommit=True,
                charset="utf8mb4",
                init_command=SESSION_SETUP,
                pool_recycle=POOL_RECYCLE_S,
                cursorclass=aiomysql.DictCursor,
                client_flag=CLIENT.MULTI_STATEMENTS,
            )
        return cls(pool, on_query)

    @asynccontextmanager
    async def transaction(self, doing: str) -> AsyncIterator[Statements]:
        """One transaction: committed if the block ends cleanly, else abandoned."""
        with translated(doing):
            async with self._pool.acquire() as conn:
                await conn.begin()
                try:
                    async with conn.cursor() as cursor:
                        yield Statements(cursor, self._on_query)
                except BaseException:
                    # Closing makes the server roll back. A ROLLBACK sent over a connection
                    # that failed or was cancelled mid-statement could itself hang or fail.
                    conn.close()
                    raise
                await _commit(conn, doing)

    @asynccontextmanager
    async def autocommit(self, doing: str) -> AsyncIterator[Statements]:
        """Statements that each commit on their own: a unit of work that is one statement,
        without BEGIN and COMMIT round trips. Its reply comes once the commit is durable."""
        with translated(doing):
            async with self._pool.acquire() as conn:
                try:
                    async with conn.cursor() as cursor:
                        yield Statements(cursor, self._on_query)
                except BaseException:
                    conn.close()  # a statement cut short leaves the connection in doubt
                    raise

    async def in_one_round_trip(
        self, doing: str, name: str, statements: Sequence[tuple[str, SqlArgs]]
    ) -> list[int]:
        """Statements that need nothing from each other's results, as one transaction sent in
        one packet; the rows each affected. The reply comes once the commit is durable; if any
        statement fails, nothing of it is kept."""
        sql = ";\n".join(["START TRANSACTION", *(text.strip() for text, _ in statements), "COMMIT"])
        args = [value for _, values in statements for value in values]
        affected: list[int] = []
        with translated(doing):
            async with self._pool.acquire() as conn:
                started = time.perf_counter()
                try:
                    async with conn.cursor() as cursor:
                        await cursor.execute(sql, args)  # START TRANSACTION's reply
                        for _ in statements:
                            await cursor.nextset()
                            affected.append(cursor.rowcount)
                        await cursor.nextset()  # COMMIT's
                except BaseException:
                    # Closing makes the server roll back what ran, and drops unread replies.
                    conn.close()
                    raise
                finally:
                    self._on_query(name, time.perf_counter() - started)
        return affected

    async def close(self) -> None:
        self._pool.close()
        await self._pool.wait_closed()


async def _commit(conn: aiomysql.Connection, doing: str) -> None:
    try:
        await conn.commit()
    except DRIVER_FAILURES as exc:
        conn.close()
        # The server may have committed before the reply was lost.
        raise TransientError(
            f"ledger commit outcome unknown while {doing}", maybe_applied=True
        ) from exc
