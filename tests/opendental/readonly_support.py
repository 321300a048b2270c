"""Helpers for the read-only SQL tests: the account the simulator grants, and a query log."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiomysql
from pydantic import SecretStr

from hub.settings import MySqlSettings
from tests.support.mariadb import ROOT

READONLY_USER = "od_readonly"
READONLY_PASSWORD = "od_readonly"


def readonly_account(database: str, *, port: int = 3306) -> MySqlSettings:
    """The SELECT-only account the simulator's setup creates, on one office database."""
    return MySqlSettings(
        host="127.0.0.1", port=port, user=READONLY_USER,
        password=SecretStr(READONLY_PASSWORD), database=database,
    )


@dataclass(frozen=True, kw_only=True)
class QueryRecord:
    query_name: str
    duration_s: float
    ok: bool


@dataclass
class QueryLog:
    """A QueryObserver that keeps what it is told."""

    records: list[QueryRecord] = field(default_factory=list)

    def on_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        self.records.append(QueryRecord(query_name=query_name, duration_s=duration_s, ok=ok))


async def revoke_readonly_grants(database: str) -> None:
    """Remove what the simulator's setup granted the read-only user on a dropped database, so
    throwaway databases leave nothing behind in the server's grant tables."""
    conn = await aiomysql.connect(
        host=ROOT.host, port=ROOT.port, user=ROOT.user,
        password=ROOT.password.get_secret_value(), autocommit=True,
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT Host FROM mysql.db WHERE Db = %s AND User = %s", (database, READONLY_USER)
            )
            for (host,) in await cur.fetchall():
                await cur.execute(
                    f"REVOKE ALL PRIVILEGES ON `{database}`.* FROM %s@%s", (READONLY_USER, host)
                )
    finally:
        conn.close()
