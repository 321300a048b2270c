"""The only place the hub runs SQL against an Open Dental database, and it only reads.

Open Dental allows direct reads of its MySQL database but forbids writes, so three locks sit on
this door (DESIGN.md invariant 5):

1. ``check_single_select`` refuses anything but one SELECT before the database is touched;
2. the default account, ``od_readonly``, holds only SELECT on the office database;
3. every connection starts ``SET SESSION TRANSACTION READ ONLY``, with autocommit.

Each connection also carries MariaDB's ``max_statement_time``, so a slow query is killed by the
server, not left loading the office's database; concurrent queries are capped by a semaphore, and
every query's duration goes to an injected observer (metrics). Failures are translated here, once:
timeouts and lost connections into TransientError, permission refusals into ReadOnlyViolation.
Messages carry the query name, never the parameters (they are patient data).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import aiomysql

from hub.errors import HubError, PermanentError, ReadOnlyViolation, TransientError
from hub.opendental.sql_guard import check_single_select
from hub.settings import HubSettings, MySqlSettings
from hub.tls import handshake_failure, mysql_ssl, refused

# Beyond the server's own statement timeout, the client gives up this much later: a connection
# that hangs without an answer (a dead network) must not hold a query slot forever.
CLIENT_GRACE_S = 1.0

# MariaDB error numbers, by what the caller can do about them.
TRANSIENT_ERRORS = frozenset({
    1969,  # max_statement_time exceeded
    3024,  # MySQL's max_execution_time exceeded (a real office may run MySQL)
    1317,  # query interrupted
    1040, 1203, 1226,  # too many connections, user connection or resource limit
    1045,  # access denied at login: credentials being rotated, or not set up yet
    1053, 1927,  # server shutting down, connection killed
    1205, 1213,  # lock wait timeout, deadlock
    2003, 2006, 2013, 2055,  # cannot connect, server gone away, lost connection
})
PERMISSION_ERRORS = frozenset({
    1044,  # access denied to the database
    1142, 1143,  # command denied on a table or column
    1227, 1370,  # privilege required, routine access denied
    1290, 1792,  # server or transaction is read-only
})


class QueryObserver(Protocol):
    """Told about every query that reached the database (refused ones never do)."""

    def on_query(self, query_name: str, duration_s: float, ok: bool) -> None: ...


def session_init_sql(timeout_s: float) -> str:
    """What every connection runs once, before its first query."""
    return (
        "SET SESSION TRANSACTION READ ONLY;"
        f" SET SESSION max_statement_time = {float(timeout_s):.3f}"
    )


def _translate(query_name: str, exc: aiomysql.MySQLError) -> HubError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if code in PERMISSION_ERRORS:
        return ReadOnlyViolation(f"{query_name}: refused by the database's grants (error {code})")
    if code in TRANSIENT_ERRORS or isinstance(exc, aiomysql.InterfaceError):
        return TransientError(f"{query_name}: Open Dental database unavailable (error {code})")
    return PermanentError(f"{query_name}: the query does not fit the database (error {code})")


class ReadOnlyDatabase:
    """SELECTs against one office's Open Dental database through its own small pool."""

    def __init__(
        self, pool: aiomysql.Pool, *, timeout_s: float, max_concurrent: int,
        observer: QueryObserver, link: str = "the office's database", where: str = "",
    ) -> None:
        self._pool = pool
        self._link = link  # for a failed TLS handshake's message
        self._where = where
        self._timeout_s = timeout_s
        self._slots = asyncio.Semaphore(max_concurrent)
        self._observer = observer

    @classmethod
    @asynccontextmanager
    async def open(
        cls, db: MySqlSettings, *, timeout_s: float, max_concurrent: int, observer: QueryObserver,
        link: str = "the office's database",
    ) -> AsyncIterator[ReadOnlyDatabase]:
        """A pool that connects on first use (so a database that is down fails a query, as a
        TransientError, not the start-up), closed on exit; over TLS when ``db.tls`` is on.
        ``link`` names the database in errors (``office office-1's database``)."""
        pool = await aiomysql.create_pool(
            host=db.host, port=db.port, user=db.user, password=db.password.get_secret_value(),
            db=db.database, minsize=0, maxsize=max_concurrent, autocommit=True,
            charset="utf8mb4", connect_timeout=timeout_s, pool_recycle=3600,
            init_command=session_init_sql(timeout_s), ssl=mysql_ssl(db),
        )
        try:
            yield cls(
                pool, timeout_s=timeout_s, max_concurrent=max_concurrent, observer=observer,
                link=link, where=f"{db.host}:{db.port}",
            )
        finally:
            pool.close()
            await pool.wait_closed()

    @classmethod
    def from_settings(
        cls, settings: HubSettings, observer: QueryObserver
    ) -> AbstractAsyncContextManager[ReadOnlyDatabase]:
        """``open`` with the ``HUB_OD_DB__*`` account, ``od_sql_timeout_s`` and
        ``od_sql_max_concurrent``."""
        return cls.open(
            settings.od_db, timeout_s=settings.od_sql_timeout_s,
            max_concurrent=settings.od_sql_max_concurrent, observer=observer,
        )

    async def select(
        self, query_name: str, sql: str, params: Sequence[object]
    ) -> list[dict[str, object]]:
        """Run one SELECT with ``%s`` placeholders (a literal ``%`` is written ``%%``) and return
        its rows as dicts keyed by column name.

        Raises ReadOnlyViolation for anything but one SELECT (before touching the database) or a
        permission refusal, TransientError for a timeout or connection failure, PermanentError
        for any other refusal by the server (a query that does not fit the schema)."""
        check_single_select(query_name, sql)
        async with self._slots:
            started = time.perf_counter()
            ok = False
            try:
                rows = await self._run(query_name, sql, tuple(params))
                ok = True
                return rows
            finally:
                self._observer.on_query(query_name, time.perf_counter() - started, ok)

    async def _run(
        self, query_name: str, sql: str, params: tuple[object, ...]
    ) -> list[dict[str, object]]:
        try:
            async with asyncio.timeout(self._timeout_s + CLIENT_GRACE_S):
                return await self._execute(sql, params)
        except TimeoutError as exc:
            message = f"{query_name}: no answer from the Open Dental database in time"
            raise TransientError(message) from exc
        except aiomysql.MySQLError as exc:
            failure = handshake_failure(exc)
            if failure is not None:  # transient for the writer: fixed, the next read works
                tls = refused(self._link, self._where, failure)
                raise TransientError(f"{query_name}: {tls}") from exc
            error = _translate(query_name, exc)
            if isinstance(error, PermanentError):
                # The server's text for these (a syntax error, say) quotes the statement with its
                # parameters, which are patient data: keep it out of every traceback.
                raise error from None
            raise error from exc

    async def _execute(self, sql: str, params: tuple[object, ...]) -> list[dict[str, object]]:
        conn = await self._pool.acquire()
        try:
            async with conn.cursor(aiomysql.DictCursor) as cur:
                await cur.execute(sql, params)
                return list(await cur.fetchall())
        except BaseException:
            # A query cut short may leave the connection mid-reply: never hand it out again.
            conn.close()
            raise
        finally:
            await self._pool.release(conn)
