"""Dropping the throwaway MariaDB databases a chaos run or a bench made, with the account that
made them (root on a developer's machine).

Dropping also revokes the grants on them: the simulator grants its read-only user SELECT on each
office database, and a grant outlives its database.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiomysql


async def drop_databases(conn: aiomysql.Connection, names: Sequence[str]) -> None:
    async with conn.cursor() as cur:
        for name in names:
            await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            await cur.execute("SELECT User, Host FROM mysql.db WHERE Db = %s", (name,))
            for user, host in await cur.fetchall():
                await cur.execute(f"REVOKE ALL PRIVILEGES ON `{name}`.* FROM %s@%s", (user, host))
