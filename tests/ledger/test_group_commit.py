"""Group commit: units from many callers share a round trip and a commit, yet each gets its own
reply or its own error, and nothing is run twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest

from hub.errors import LedgerError, TransientError
from hub.ledger.group_commit import GroupCommit
from hub.ledger.mysql_session import MySqlSession, Reply, SqlArgs
from hub.settings import MySqlSettings
from tests.adapters.proxy import tcp_proxy
from tests.ledger.conftest import root_connection, settings_for
from tests.writer.support import eventually

INSERT = (
    "INSERT INTO dlq_purges (purged_at, queue, filter_json, message_count)"
    " VALUES (UTC_TIMESTAMP(6), %s, '{}', 0)"
)


class CountingSession(MySqlSession):
    """The real session, counting the packets of statements it sends."""

    round_trips = 0

    async def round_trip(self, statements: Sequence[tuple[str, SqlArgs]]) -> list[Reply]:
        self.round_trips += 1
        return await super().round_trip(statements)


# Far longer than any test here takes: a unit that waited it out would time the test out first.
FOREVER_S = 600.0
WITHIN_S = 10.0  # what a test allows for work that goes out at once


@asynccontextmanager
async def group_on(
    settings: MySqlSettings, *, batches: int = 1, max_units: int = 64
) -> AsyncIterator[tuple[GroupCommit, CountingSession]]:
    session = await CountingSession.open(settings, on_query=lambda n, s: None, max_connections=4)
    group = GroupCommit(session, lambda n, s: None, batches=batches, max_units=max_units)
    try:
        yield group, session
    finally:
        await group.close()
        await session.close()


async def rows_of(database: str, queue: str) -> int:
    conn = await root_connection(database)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute("SELECT COUNT(*) FROM dlq_purges WHERE queue = %s", (queue,))
            (count,) = await cursor.fetchone()
    finally:
        conn.close()
    return int(count)


def insert(queue: str) -> list[tuple[str, SqlArgs]]:
    return [(INSERT, (queue,))]


async def test_units_waiting_together_share_one_round_trip(ledger_db: MySqlSettings) -> None:
    async with group_on(ledger_db) as (group, session):
        # When twenty callers each run a unit at the same moment
        replies = await asyncio.gather(
            *(group.run("testing", "test.insert", insert(f"q-{n}")) for n in range(20))
        )
        # Then each got its own row's id, all twenty rows are there, and one packet carried them
        ids = [reply.last_insert_id for [reply] in replies]
        assert len(set(ids)) == 20 and all(reply.affected == 1 for [reply] in replies)
        assert session.round_trips == 1
    for n in range(20):
        assert await rows_of(ledger_db.database, f"q-{n}") == 1


async def queued(group: GroupCommit, count: int) -> None:
    """Let the units just started run up to their wait (``run`` queues a unit before it awaits
    anything), and check that ``count`` are queued."""
    await asyncio.sleep(0)
    assert group.waiting == count


async def test_patient_units_arriving_apart_wait_for_each_other(ledger_db: MySqlSettings) -> None:
    async with group_on(ledger_db, batches=2) as (group, session):
        # When five units that may each wait a while arrive one after another, each once the
        # one before is queued
        units = []
        for n in range(5):
            units.append(asyncio.ensure_future(
                group.run("testing", "test.insert", insert(f"patient-{n}"), batching_s=1.0)
            ))
            await queued(group, n + 1)
        replies = await asyncio.gather(*units)
        # Then the first one's patience ran out with all five in its batch: one packet
        assert all(reply.affected == 1 for [reply] in replies)
        assert session.round_trips == 1
    for n in range(5):
        assert await rows_of(ledger_db.database, f"patient-{n}") == 1


async def test_a_unit_with_no_patience_takes_the_waiting_ones_at_once(
    ledger_db: MySqlSettings,
) -> None:
    async with group_on(ledger_db) as (group, session):
        # Given units that could wait far longer than this test runs
        patient = [
            asyncio.ensure_future(
                group.run("testing", "test.insert", insert(f"slow-{n}"), batching_s=FOREVER_S)
            )
            for n in range(3)
        ]
        await queued(group, 3)
        # When a unit that cannot wait comes
        hurried = group.run("testing", "test.insert", insert("hurried"))
        # Then it goes out at once, and takes the patient ones with it in its packet
        await asyncio.wait_for(asyncio.gather(hurried, *patient), WITHIN_S)
        assert session.round_trips == 1


async def test_a_full_batch_goes_out_before_anyone_s_patience_runs_out(
    ledger_db: MySqlSettings,
) -> None:
    async with group_on(ledger_db, max_units=4) as (group, session):
        # When as many patient units as a batch holds are waiting
        units = [
            group.run("testing", "test.insert", insert(f"full-{n}"), batching_s=FOREVER_S)
            for n in range(4)
        ]
        # Then the batch goes out without waiting for any of them to run out of patience
        await asyncio.wait_for(asyncio.gather(*units), WITHIN_S)
        assert session.round_trips == 1


async def test_closing_sends_the_patient_units_at_once(ledger_db: MySqlSettings) -> None:
    async with group_on(ledger_db) as (group, session):
        # Given a unit that could wait far longer than this test runs
        unit = asyncio.ensure_future(
            group.run("testing", "test.insert", insert("at-close"), batching_s=FOREVER_S)
        )
        await queued(group, 1)
        # When the group is closed (a stopping writer)
        await asyncio.wait_for(group.close(), WITHIN_S)
        # Then the unit was committed and got its reply
        [reply] = await unit
        assert reply.affected == 1 and session.round_trips == 1
    assert await rows_of(ledger_db.database, "at-close") == 1


async def test_a_refused_statement_fails_only_its_own_unit(ledger_db: MySqlSettings) -> None:
    async with group_on(ledger_db) as (group, session):
        # When a unit whose statement the server refuses is committed beside two good ones
        results = await asyncio.gather(
            group.run("testing", "test.insert", insert("good-1")),
            group.run("testing", "test.broken", [("UPDATE no_such_table SET x = %s", (1,))]),
            group.run("testing", "test.insert", insert("good-2")),
            return_exceptions=True,
        )
        # Then the batch was abandoned and each unit run alone: the good ones are kept once,
        # the broken one has its own error
        assert isinstance(results[1], LedgerError)
        assert all(isinstance(result, list) for result in (results[0], results[2]))
        assert session.round_trips == 1 + 3
    assert await rows_of(ledger_db.database, "good-1") == 1
    assert await rows_of(ledger_db.database, "good-2") == 1


async def test_a_reply_lost_after_the_commit_is_transient_and_nothing_runs_twice(
    ledger_db: MySqlSettings,
) -> None:
    async with (
        tcp_proxy(ledger_db.host, ledger_db.port) as (proxy, port),
        group_on(settings_for(ledger_db.database, port=port)) as (group, _),
    ):
        # Given the server's replies held back on the way to the hub
        proxy.hold_replies()
        units = [
            asyncio.ensure_future(group.run("testing", "test.insert", insert(f"lost-{n}")))
            for n in range(3)
        ]

        # When the batch has committed and then the connection breaks
        async def committed() -> bool:
            counts = [await rows_of(ledger_db.database, f"lost-{n}") for n in range(3)]
            return counts == [1, 1, 1]

        await eventually(committed, "the held batch committed")
        proxy.cut()
        results = await asyncio.gather(*units, return_exceptions=True)
    # Then every unit hears "transient" (it may have been applied), and none was sent again
    assert all(isinstance(result, TransientError) for result in results)
    for n in range(3):
        assert await rows_of(ledger_db.database, f"lost-{n}") == 1


async def test_a_session_waits_for_row_locks_as_its_settings_say_batch_or_not(
    ledger_db: MySqlSettings,
) -> None:
    # Given a ledger whose statements may wait 3 s for a row lock
    async with group_on(ledger_db.model_copy(update={"lock_wait_s": 3})) as (group, session):
        # When its connection is asked, before and after a batch of two units went through it
        before = await _lock_wait_s(session)
        units = (group.run("testing", "test.insert", insert(f"w-{n}")) for n in (1, 2))
        await asyncio.gather(*units)
        after = await _lock_wait_s(session)
    # Then it waits 3 s each time: the setting's, with the batch's brief wait undone
    assert (before, after) == (3, 3)


async def _lock_wait_s(session: MySqlSession) -> object:
    async with session.transaction("reading the lock wait") as statements:
        row = await statements.fetch_one(
            "test.lock_wait", "SELECT @@SESSION.innodb_lock_wait_timeout AS wait_s"
        )
    return None if row is None else row["wait_s"]


async def test_a_row_lock_holds_a_batch_briefly_not_the_other_units(
    ledger_db: MySqlSettings,
) -> None:
    # Given another transaction holding a lock on one unit's row, and a ledger whose own lock
    # wait is longer than the test may run (so only the batch's brief one can let anyone by)
    waits_long = ledger_db.model_copy(update={"lock_wait_s": int(FOREVER_S)})
    async with group_on(waits_long) as (group, _):
        [[first]] = await asyncio.gather(group.run("testing", "test.insert", insert("locked")))
        holder = await root_connection(ledger_db.database)
        try:
            async with holder.cursor() as cursor:
                await cursor.execute("START TRANSACTION")
                await cursor.execute(
                    "SELECT id FROM dlq_purges WHERE id = %s FOR UPDATE", (first.last_insert_id,)
                )
            # When a unit updating that row is committed beside one that does not touch it
            update = asyncio.ensure_future(group.run(
                "testing", "test.update",
                [("UPDATE dlq_purges SET message_count = 1 WHERE id = %s",
                  (first.last_insert_id,))],
            ))
            other = asyncio.ensure_future(group.run("testing", "test.insert", insert("free")))
            # Then the other unit is committed while the lock is still held
            await asyncio.wait_for(other, WITHIN_S)  # a guard, not a timing
            assert not update.done()
        finally:
            async with holder.cursor() as cursor:
                await cursor.execute("COMMIT")
            holder.close()
        # and the waiting one goes through once the lock is gone
        [updated] = await update
        assert updated.affected == 1
    assert await rows_of(ledger_db.database, "free") == 1


async def test_a_caller_that_gives_up_before_its_batch_leaves_nothing_behind(
    ledger_db: MySqlSettings,
) -> None:
    lock = f"busy-{uuid.uuid4().hex}"
    async with group_on(ledger_db) as (group, _):
        # Given the only batch in flight busy until the test lets it go (it waits for a named
        # lock the test holds)
        holder = await root_connection(ledger_db.database)
        try:
            async with holder.cursor() as cursor:
                await cursor.execute("SELECT GET_LOCK(%s, 0)", (lock,))
            statement = ("DO GET_LOCK(%s, %s)", (lock, int(FOREVER_S)))
            busy = asyncio.ensure_future(group.run("testing", "test.busy", [statement]))

            async def in_flight() -> bool:
                return group.waiting == 0 and not busy.done()

            await queued(group, 1)
            await eventually(in_flight, "the busy batch taken and sent")
            # When a caller queues a unit behind it and is cancelled, and another queues one
            given_up = asyncio.ensure_future(
                group.run("testing", "test.insert", insert("given-up"))
            )
            kept = asyncio.ensure_future(group.run("testing", "test.insert", insert("kept")))
            await queued(group, 2)
            given_up.cancel()
        finally:
            await holder.ensure_closed()  # and the busy batch goes on: the lock dies with it
        await busy
        await kept
    with pytest.raises(asyncio.CancelledError):
        await given_up
    # Then only the unit still wanted was run
    assert await rows_of(ledger_db.database, "given-up") == 0
    assert await rows_of(ledger_db.database, "kept") == 1


async def test_a_batch_that_breaks_in_the_hub_fails_its_units_and_the_next_goes_on(
    ledger_db: MySqlSettings,
) -> None:
    async with group_on(ledger_db) as (group, _):
        # When a unit the driver cannot even format is batched beside a good one
        results = await asyncio.gather(
            group.run("testing", "test.malformed", [("SELECT %s, %s", (1,))]),
            group.run("testing", "test.insert", insert("beside")),
            return_exceptions=True,
        )
        # Then both callers hear of it (none waits forever), and the group goes on serving
        assert all(isinstance(result, TypeError) for result in results)
        [reply] = await group.run("testing", "test.insert", insert("after"))
        assert reply.affected == 1
    assert await rows_of(ledger_db.database, "beside") == 0
    assert await rows_of(ledger_db.database, "after") == 1
