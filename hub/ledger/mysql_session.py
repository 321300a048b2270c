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
from dataclasses import dataclass
from typing import Any, Self, TypeAlias

import aiomysql
from pymysql.constants import CLIENT

from hub.errors import TransientError
from hub.ledger.mysql_errors import DRIVER_FAILURES, error_code, translate, translated
from hub.ledger.port import QueryObserver
from hub.settings import MySqlSettings
from hub.tls import handshake, mysql_ssl

POOL_RECYCLE_S = 3600
DEADLOCK = 1213  # InnoDB chose this transaction to roll back, whole, to break a deadlock
DEADLOCK_RETRIES = 3


def session_setup(lock_wait_s: int) -> str:
    """READ COMMITTED: a claim of a key nobody holds yet takes no gap lock, so two writers
    claiming new keys side by side do not deadlock on each other's gaps; a short lock wait turns
    a stuck holder into a TransientError instead of a stalled lane."""
    return (
        "SET SESSION tx_isolation = 'READ-COMMITTED', "
        f"SESSION innodb_lock_wait_timeout = {int(lock_wait_s)}"
    )


@dataclass(frozen=True)
class Reply:
    """What the server said of one statement."""

    affected: int  # rows; an upsert says 1 for an insert, 2 for an update of an existing row
    last_insert_id: int


class RoundTripFailed(Exception):
    """A packet of statements failed after it may have been sent; ``error`` is the driver's."""

    def __init__(self, error: Exception, *, replies_read: int) -> None:
        super().__init__(f"round trip failed after {replies_read} replies")
        self.error = error
        self.replies_read = replies_read


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

    def __init__(self, pool: aiomysql.Pool, on_query: QueryObserver, *, lock_wait_s: int) -> None:
        self._pool = pool
        self._on_query = on_query
        self.lock_wait_s = lock_wait_s  # how long a statement waits for a row lock

    @classmethod
    async def open(
        cls, settings: MySqlSettings, *, on_query: QueryObserver, max_connections: int
    ) -> Self:
        where = f"{settings.host}:{settings.port}"
        with translated("connecting"), handshake(
            "the hub database", where, tls=settings.tls
        ):
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
                init_command=session_setup(settings.lock_wait_s),
                pool_recycle=POOL_RECYCLE_S,
                cursorclass=aiomysql.DictCursor,
                client_flag=CLIENT.MULTI_STATEMENTS,
                ssl=mysql_ssl(settings),  # a TLS handshake per pooled connection, at its opening
            )
        return cls(pool, on_query, lock_wait_s=settings.lock_wait_s)

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
        self, doing: str, statements: Sequence[tuple[str, SqlArgs]]
    ) -> list[Reply]:
        """Statements that need nothing from each other's results, as one transaction sent in
        one packet; each one's reply. The reply comes once the commit is durable; if any
        statement fails, nothing of it is kept. One statement alone goes in autocommit."""
        if len(statements) == 1:
            wrapped = list(statements)
        else:
            wrapped = [("START TRANSACTION", ()), *statements, ("COMMIT", ())]
        deadlocks = 0
        while True:
            try:
                with translated(doing):
                    replies = await self.round_trip(wrapped)
            except RoundTripFailed as failed:
                deadlocks += error_code(failed.error) == DEADLOCK
                # A deadlock's victim was rolled back whole, so it is sent again as it was.
                if error_code(failed.error) == DEADLOCK and deadlocks <= DEADLOCK_RETRIES:
                    continue
                raise translate(failed.error, doing) from failed.error
            return replies if len(statements) == 1 else replies[1:-1]

    async def round_trip(self, statements: Sequence[tuple[str, SqlArgs]]) -> list[Reply]:
        """Statements sent as one packet, each statement's reply read in turn. The driver's
        errors are not translated: one raised once the packet may have been sent comes as
        ``RoundTripFailed``, saying how many replies were read before it."""
        sql = ";\n".join(text.strip() for text, _ in statements)
        args = [value for _, values in statements for value in values]
        replies: list[Reply] = []
        async with self._pool.acquire() as conn:
            try:
                async with conn.cursor() as cursor:
                    await cursor.execute(sql, args)
                    replies.append(Reply(cursor.rowcount, cursor.lastrowid))
                    for _ in statements[1:]:
                        await cursor.nextset()
                        replies.append(Reply(cursor.rowcount, cursor.lastrowid))
            except BaseException as exc:
                # Closing makes the server roll back what ran, and drops unread replies.
                conn.close()
                if isinstance(exc, DRIVER_FAILURES):
                    raise RoundTripFailed(exc, replies_read=len(replies)) from exc
                raise
        return replies

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
