"""The read-only door to the Open Dental database: only one SELECT passes, the account cannot
write anyway, slow queries are killed, and concurrent queries are capped."""

from __future__ import annotations

import asyncio
import socket
import uuid

import aiomysql
import pytest

from hub.errors import PermanentError, ReadOnlyViolation, TransientError
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.sql_guard import check_single_select
from hub.settings import HubSettings
from tests.opendental.readonly_support import (
    READONLY_PASSWORD,
    READONLY_USER,
    QueryLog,
    readonly_account,
)

REFUSED = {
    "two statements": "SELECT 1; SELECT 2",
    "update": "UPDATE patient SET LName = 'x' WHERE PatNum = 1",
    "insert select": "INSERT INTO commlog (PatNum) SELECT PatNum FROM patient",
    "replace into": "REPLACE INTO commlog (CommlogNum) VALUES (1)",
    "delete": "DELETE FROM payment",
    "drop after select": "SELECT 1; DROP TABLE patient",
    "into outfile": "SELECT PatNum FROM patient INTO OUTFILE '/tmp/patients.csv'",
    "into dumpfile": "SELECT Note FROM commlog LIMIT 1 INTO DUMPFILE '/tmp/note'",
    "into variable": "SELECT PatNum INTO @pat FROM patient LIMIT 1",
    "for update": "SELECT PatNum FROM patient WHERE PatNum = 1 FOR UPDATE",
    "lock in share mode": "SELECT PatNum FROM patient LOCK IN SHARE MODE",
    "block comment hides the split": "SELECT 1 /* harmless */ ; DELETE FROM patient",
    "line comment after a split": "SELECT 1; -- just a comment\nDELETE FROM patient",
    "dash dash without space is not a comment": "SELECT 1 --; DROP TABLE patient",
    "executable comment": "SELECT 1 /*! ; DROP TABLE patient */",
    "mariadb executable comment": "SELECT 1 /*M!100000 , SLEEP(1) */",
    "set": "SET SESSION TRANSACTION READ WRITE",
    "call": "CALL some_procedure()",
    "do": "DO SLEEP(1)",
    "handler": "HANDLER patient OPEN",
    "load data": "LOAD DATA INFILE '/tmp/x' INTO TABLE patient",
    "with then delete": "WITH x AS (SELECT 1 AS a) DELETE FROM patient",
    "show": "SHOW GRANTS",
    "empty": "   ",
    "only a comment": "/* SELECT 1 */",
    "unterminated string": "SELECT 'abc",
    "backslash in a literal": r"SELECT 'it\'s'; DROP TABLE patient; -- '",
    "two trailing semicolons": "SELECT 1;;",
}

ALLOWED = {
    "plain select": "SELECT PatNum, LName FROM patient WHERE PatNum = %s",
    "lower case with one trailing semicolon": "select 1 ;",
    "with select": "WITH recent AS (SELECT PatNum FROM patient) SELECT PatNum FROM recent",
    "semicolon inside a string": "SELECT PatNum FROM commlog WHERE Note = 'a; DROP TABLE x'",
    "keyword inside a string": "SELECT 'DELETE FROM patient' AS text",
    "keyword inside a comment": "SELECT 1 /* UPDATE later */ -- INSERT too\n",
    "quoted identifier named like a keyword": "SELECT `Update` FROM `delete`",
    "doubled quote inside a string": "SELECT 'it''s; fine' AS text",
    "replace as a function": "SELECT REPLACE(Note, %s, ' ') AS flat FROM commlog",
    "parenthesised select": "(SELECT 1) UNION (SELECT 2)",
    "arithmetic with minus minus": "SELECT 1--1 AS two",
}


@pytest.mark.parametrize("sql", REFUSED.values(), ids=REFUSED.keys())
def test_guard_refuses_everything_but_one_select(sql: str) -> None:
    # Given a statement that is not exactly one read
    # When the guard inspects it
    # Then it is refused, naming the query but not quoting the SQL
    with pytest.raises(ReadOnlyViolation) as refused:
        check_single_select("probe", sql)
    assert str(refused.value).startswith("probe: refused")
    assert "patient" not in str(refused.value)


@pytest.mark.parametrize("sql", ALLOWED.values(), ids=ALLOWED.keys())
def test_guard_lets_one_select_through(sql: str) -> None:
    # Given a single SELECT (or WITH ... SELECT)
    # When the guard inspects it
    # Then it passes without error
    check_single_select("probe", sql)


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refusal_happens_before_the_database_is_touched() -> None:
    # Given a database handle pointing at a port where nothing listens
    log = QueryLog()
    account = readonly_account("opendental", port=_unused_port())
    async with ReadOnlyDatabase.open(
        account, timeout_s=1.0, max_concurrent=1, observer=log
    ) as db:
        # When a write is offered, and then a read
        with pytest.raises(ReadOnlyViolation):
            await db.select("sneaky", "UPDATE patient SET LName = %s", ["x"])
        with pytest.raises(TransientError) as unreachable:
            await db.select("lookup", "SELECT PatNum FROM patient WHERE LName = %s", ["x"])
    # Then the write never reached for a connection, the read did and failed as transient,
    # and only the read was reported (by name, without its parameters)
    assert "lookup" in str(unreachable.value)
    assert [(r.query_name, r.ok) for r in log.records] == [("lookup", False)]


async def test_a_database_that_never_answers_is_transient() -> None:
    # Given a server that accepts connections and then says nothing (a dead network)
    accepted: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    log = QueryLog()
    async with server, ReadOnlyDatabase.open(
        readonly_account("opendental", port=port), timeout_s=0.2, max_concurrent=1, observer=log
    ) as db:
        # When a query is offered
        with pytest.raises(TransientError) as silent:
            await db.select("lookup", "SELECT 1 AS one", [])
        for writer in accepted:
            writer.close()
            await writer.wait_closed()
    # Then the client gives up on its own and reports a transient failure
    assert "lookup" in str(silent.value)
    assert [(r.query_name, r.ok) for r in log.records] == [("lookup", False)]


async def test_every_session_is_read_only_with_a_statement_timeout(
    readonly_db: ReadOnlyDatabase, query_log: QueryLog
) -> None:
    # Given a ReadOnlyDatabase on an office database (timeout 5 s)
    # When it asks the server about its own session
    rows = await readonly_db.select(
        "session",
        "SELECT CURRENT_USER() AS who, @@session.tx_read_only AS read_only,"
        " @@session.max_statement_time AS timeout_s, @@session.autocommit AS autocommit",
        [],
    )
    # Then it is the SELECT-only user, in a read-only, autocommit session with the timeout
    assert len(rows) == 1
    assert str(rows[0]["who"]).startswith(f"{READONLY_USER}@")
    assert rows[0]["read_only"] == 1
    assert rows[0]["autocommit"] == 1
    assert float(str(rows[0]["timeout_s"])) == 5.0
    assert [(r.query_name, r.ok) for r in query_log.records] == [("session", True)]


async def test_from_settings_uses_the_hub_settings(office_database: str) -> None:
    # Given hub settings naming the office database, a 2.5 s timeout and one query at a time
    settings = HubSettings(
        od_db=readonly_account(office_database), od_sql_timeout_s=2.5, od_sql_max_concurrent=1
    )
    # When a ReadOnlyDatabase built from them asks about its session
    async with ReadOnlyDatabase.from_settings(settings, QueryLog()) as db:
        rows = await db.select(
            "session", "SELECT DATABASE() AS db, @@session.max_statement_time AS timeout_s", []
        )
    # Then it is connected to that database with that timeout
    assert rows[0]["db"] == office_database
    assert float(str(rows[0]["timeout_s"])) == 2.5


async def test_the_readonly_account_cannot_write_even_past_the_guard(
    office_database: str,
) -> None:
    # Given a raw connection as od_readonly, with no guard and no read-only session
    conn = await aiomysql.connect(
        host="127.0.0.1", port=3306, user=READONLY_USER, password=READONLY_PASSWORD,
        db=office_database, autocommit=True,
    )
    try:
        async with conn.cursor() as cur:
            # When it tries to insert a row
            with pytest.raises(aiomysql.MySQLError) as refused:
                await cur.execute("INSERT INTO commlog (PatNum, Note) VALUES (1, 'written')")
    finally:
        conn.close()
    # Then MariaDB refuses it for lack of the INSERT privilege (error 1142)
    assert refused.value.args[0] == 1142


async def test_a_permission_refusal_by_the_server_is_a_read_only_violation(
    readonly_db: ReadOnlyDatabase,
) -> None:
    # Given the SELECT-only account, which has no grant on the mysql schema
    # When a SELECT reaches a table outside its grant
    # Then the server's refusal surfaces as ReadOnlyViolation
    with pytest.raises(ReadOnlyViolation) as refused:
        await readonly_db.select("grants", "SELECT User FROM mysql.user", [])
    assert "grants" in str(refused.value)


async def test_a_query_that_does_not_fit_the_schema_is_permanent(
    readonly_db: ReadOnlyDatabase,
) -> None:
    # Given a SELECT naming a column Open Dental does not have
    # When it runs with a parameter that stands for patient data
    with pytest.raises(PermanentError) as rejected:
        await readonly_db.select(
            "bad_column", "SELECT NoSuchColumn FROM patient WHERE LName = %s", ["Zimmerman"]
        )
    # Then it is permanent, and neither the message nor its cause quote the parameter
    assert "bad_column" in str(rejected.value)
    assert "Zimmerman" not in str(rejected.value)
    assert rejected.value.__cause__ is None
    assert rejected.value.__suppress_context__


async def test_a_slow_select_is_killed_by_the_statement_timeout(
    office_database: str,
) -> None:
    # Given a ReadOnlyDatabase whose statement timeout is half a second
    log = QueryLog()
    async with ReadOnlyDatabase.open(
        readonly_account(office_database), timeout_s=0.5, max_concurrent=1, observer=log
    ) as db:
        # When a query would sleep for five seconds
        with pytest.raises(TransientError) as slow:
            await db.select("slow", "SELECT SLEEP(5) AS slept", [])
        # Then the server kills it and that is transient; the handle still works afterwards
        after = await db.select("after", "SELECT 1 AS one", [])
    assert "slow" in str(slow.value)
    assert after == [{"one": 1}]
    assert [(r.query_name, r.ok) for r in log.records] == [("slow", False), ("after", True)]


async def test_concurrent_queries_never_exceed_the_cap(office_database: str) -> None:
    # Given a ReadOnlyDatabase capped at 2 concurrent queries, and a tag that marks our queries
    cap, offered = 2, 5
    tag = f"%cap_probe_{uuid.uuid4().hex}%"
    probe = (
        "SELECT (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE %s)"
        " AS running, SLEEP(0.3) AS slept"
    )
    log = QueryLog()
    async with ReadOnlyDatabase.open(
        readonly_account(office_database), timeout_s=5.0, max_concurrent=cap, observer=log
    ) as db:
        # When five such queries are started at once, each counting the tagged ones running
        results = await asyncio.gather(*(db.select("cap", probe, [tag]) for _ in range(offered)))
    # Then all five ran, and the server never saw more than two of them at once
    running = [int(str(rows[0]["running"])) for rows in results]
    assert len(running) == offered
    assert max(running) <= cap
    assert [r.ok for r in log.records] == [True] * offered
