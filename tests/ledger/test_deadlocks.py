"""A deadlock InnoDB resolves by rolling the ledger's transaction back is sent again, not
reported: nothing of it was kept. Made deterministic: the other session has changed far more
rows, so InnoDB picks the ledger's transaction as the one to roll back."""

import asyncio

import aiomysql

from hub.ledger.mysql_session import MySqlSession
from hub.settings import MySqlSettings
from tests.ledger.conftest import root_connection

ROWS = 200


async def _lock_waits(root: aiomysql.Connection) -> int:
    async with root.cursor() as cur:
        await cur.execute(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'"
        )
        (count,) = await cur.fetchone()
    return int(count)


async def test_a_transaction_chosen_as_a_deadlock_victim_is_sent_again(
    ledger_db: MySqlSettings,
) -> None:
    # Given a table of rows, a session that changed most of them and holds row 2, and a
    # ledger transaction that changed row 1 and waits for row 2
    other = await root_connection(ledger_db.database)
    watcher = await root_connection(ledger_db.database)
    session = await MySqlSession.open(
        ledger_db, on_query=lambda name, seconds: None, max_connections=2
    )
    try:
        async with other.cursor() as cur:
            await cur.execute("CREATE TABLE scratch (id INT PRIMARY KEY, v INT NOT NULL)")
            await cur.execute(
                "INSERT INTO scratch SELECT seq, 0 FROM seq_1_to_%s", (ROWS,)
            )
            await other.begin()
            await cur.execute("UPDATE scratch SET v = v + 1 WHERE id > 2")
            await cur.execute("UPDATE scratch SET v = 1 WHERE id = 2")
        ledger_unit = asyncio.create_task(session.in_one_round_trip("testing", [
            ("UPDATE scratch SET v = 10 WHERE id = 1", ()),
            ("UPDATE scratch SET v = 10 WHERE id = 2", ()),
        ]))
        for _ in range(500):  # a guard, not a timing: the unit's wait shows up at once
            if await _lock_waits(watcher):
                break
            await asyncio.sleep(0.01)
        # When the other session asks for row 1: a deadlock, the ledger's transaction its victim
        async with other.cursor() as cur:
            await cur.execute("UPDATE scratch SET v = 1 WHERE id = 1")
        await other.commit()
        # Then the ledger's unit is sent again and takes effect, whole
        replies = await ledger_unit
        assert [reply.affected for reply in replies] == [1, 1]
        async with watcher.cursor() as cur:
            await cur.execute("SELECT v FROM scratch WHERE id IN (1, 2) ORDER BY id")
            assert [row[0] for row in await cur.fetchall()] == [10, 10]
    finally:
        other.close()
        watcher.close()
        await session.close()
