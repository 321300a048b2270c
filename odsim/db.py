"""MariaDB access for the simulator: root connection parameters, one pool per office database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiomysql


@dataclass(frozen=True, kw_only=True)
class DbParams:
    """Where MariaDB is and the account the simulator writes with (it plays Open Dental: root)."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""


async def connect(params: DbParams, database: str | None = None) -> aiomysql.Connection:
    return await aiomysql.connect(
        host=params.host, port=params.port, user=params.user, password=params.password,
        db=database, autocommit=True, charset="utf8mb4",
    )


class OfficePools:
    """A small aiomysql pool per office database, opened on first use and closed together."""

    def __init__(self, params: DbParams, *, max_size: int = 10) -> None:
        self._params = params
        self._max_size = max_size
        self._pools: dict[str, aiomysql.Pool] = {}
        self._lock = asyncio.Lock()

    async def _pool(self, database: str) -> aiomysql.Pool:
        pool = self._pools.get(database)
        if pool is not None:
            return pool
        async with self._lock:
            if database not in self._pools:
                p = self._params
                self._pools[database] = await aiomysql.create_pool(
                    host=p.host, port=p.port, user=p.user, password=p.password, db=database,
                    minsize=1, maxsize=self._max_size, autocommit=True, charset="utf8mb4",
                    pool_recycle=3600,
                )
            return self._pools[database]

    @asynccontextmanager
    async def read(self, database: str) -> AsyncIterator[aiomysql.DictCursor]:
        """A dict cursor in autocommit mode, for reads."""
        pool = await self._pool(database)
        async with pool.acquire() as conn, conn.cursor(aiomysql.DictCursor) as cur:
            yield cur

    @asynccontextmanager
    async def transaction(self, database: str) -> AsyncIterator[aiomysql.DictCursor]:
        """A dict cursor inside one transaction: committed on a clean exit, else rolled back."""
        pool = await self._pool(database)
        async with pool.acquire() as conn:
            await conn.begin()
            try:
                async with conn.cursor(aiomysql.DictCursor) as cur:
                    yield cur
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
        for pool in pools:
            await pool.wait_closed()
