"""The audit trail of a test's own hub database: read as ``hub audit`` reads it, or broken the
way an operator's machine could find it."""

from __future__ import annotations

from hub.audit import AuditFilter, AuditRow, Operator, mysql_trail
from hub.settings import MySqlSettings
from tests.ledger.conftest import root_connection

ALICE = Operator(os_user="alice", name="Alice Ops")


async def trail(settings: MySqlSettings, wanted: AuditFilter | None = None) -> list[AuditRow]:
    """Every row of the trail (or the matching ones), oldest first."""
    async with mysql_trail(settings) as opened:
        return await opened.entries(wanted or AuditFilter(limit=10_000))


def said(rows: list[AuditRow]) -> list[tuple[str, str, str, str | None]]:
    """Each row as (action, target, result, error): what a test usually checks."""
    return [(row.action, row.target, row.result.value, row.error) for row in rows]


async def as_root(database: str, sql: str, args: tuple[object, ...] = ()) -> int:
    """One statement on the test's database as root (not through the hub); rows affected."""
    conn = await root_connection(database)
    try:
        async with conn.cursor() as cur:
            return int(await cur.execute(sql, args))
    finally:
        conn.close()


async def drop_the_trail(database: MySqlSettings) -> None:
    """The audit table gone, as a careless restore could leave it (``migrate`` does not bring
    it back: version 10 stays recorded)."""
    await as_root(database.database, "DROP TABLE operator_audit")
