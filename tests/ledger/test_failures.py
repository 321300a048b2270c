"""Database failures reach callers as the hub's errors, never as the driver's."""

import asyncio
import socket

import aiomysql
import pytest

from hub.errors import LedgerError, TransientError
from hub.ledger import MySqlLedger, migrate
from hub.settings import MySqlSettings
from tests.ledger.builders import claim_of, new_key
from tests.ledger.conftest import root_connection, settings_for


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_an_unreachable_database_is_transient(empty_database: str) -> None:
    # Given settings pointing at a port nobody listens on
    settings = settings_for(empty_database, port=_closed_port())
    # When the ledger opens or migrates, Then the failure is transient, from the driver's error
    with pytest.raises(TransientError) as opening:
        await MySqlLedger.open(settings)
    with pytest.raises(TransientError) as migrating:
        await migrate(settings)
    assert isinstance(opening.value.__cause__, aiomysql.MySQLError | OSError)
    assert isinstance(migrating.value.__cause__, aiomysql.MySQLError | OSError)


async def _wait_for_statement(root: aiomysql.Connection, database: str, text: str) -> int:
    """The id of the connection running a statement containing ``text`` on ``database``."""
    async with root.cursor() as cur:
        for _ in range(500):
            await cur.execute(
                "SELECT ID FROM information_schema.PROCESSLIST"
                " WHERE DB = %s AND INFO LIKE %s AND ID <> CONNECTION_ID()",
                (database, f"%{text}%"),
            )
            row = await cur.fetchone()
            if row is not None:
                return int(row[0])
            await asyncio.sleep(0.01)
    raise AssertionError("the ledger's statement never showed up")


async def test_a_killed_connection_is_transient_and_the_ledger_recovers(
    ledger: MySqlLedger, ledger_db: MySqlSettings
) -> None:
    # Given a ledger statement waiting on a row lock held by another session
    intent_id = (await ledger.claim(claim_of(new_key()))).intent_id
    holder = await root_connection(ledger_db.database)
    killer = await root_connection(ledger_db.database)
    try:
        async with holder.cursor() as cur:
            await holder.begin()
            await cur.execute("SELECT id FROM intents WHERE id = %s FOR UPDATE", (intent_id,))
            waiting = asyncio.create_task(ledger.begin_attempt(intent_id))
            victim = await _wait_for_statement(killer, ledger_db.database, "UPDATE intents")
            # When its connection is killed
            async with killer.cursor() as kill:
                await kill.execute(f"KILL {victim}")
            # Then the caller gets a TransientError, not the driver's exception
            with pytest.raises(TransientError) as raised:
                await waiting
            assert isinstance(raised.value.__cause__, aiomysql.MySQLError)
            await holder.rollback()
    finally:
        holder.close()
        killer.close()
    # And the next call works on a fresh connection, the killed attempt not applied
    assert await ledger.begin_attempt(intent_id) == 1


async def test_an_unmigrated_database_is_a_ledger_error(empty_database: str) -> None:
    # Given a ledger on a database without the ledger's tables
    ledger = await MySqlLedger.open(settings_for(empty_database))
    try:
        # When an intent is claimed, Then the error says to stop, not to retry
        with pytest.raises(LedgerError):
            await ledger.claim(claim_of(new_key()))
    finally:
        await ledger.close()


async def test_each_statement_is_timed_by_name(ledger_db: MySqlSettings) -> None:
    # Given a ledger with a query observer
    seen: list[tuple[str, float]] = []
    ledger = await MySqlLedger.open(
        ledger_db, on_query=lambda name, duration_s: seen.append((name, duration_s))
    )
    try:
        # When an intent is claimed twice and begins an attempt
        key = new_key()
        intent_id = (await ledger.claim(claim_of(key))).intent_id
        await ledger.claim(claim_of(key))
        await ledger.begin_attempt(intent_id)
    finally:
        await ledger.close()
    # Then each statement was reported by name with a duration
    assert [name for name, _ in seen] == [
        "claim.upsert", "claim.upsert", "claim.select", "begin_attempt.update",
    ]
    assert all(duration_s >= 0 for _, duration_s in seen)
