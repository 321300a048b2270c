import aiomysql

from tests.support.mariadb import ROOT


async def test_empty_database_is_created_and_empty(empty_database: str) -> None:
    # Given a throwaway database, When we list its tables, Then there are none.
    conn = await aiomysql.connect(host=ROOT.host, port=ROOT.port, user=ROOT.user, password="", db=empty_database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SHOW TABLES")
            assert await cur.fetchall() == ()
    finally:
        conn.close()
