"""hub.dead's retention: the policy (TTL, dead-lettered at least once to the expiry route), and
the writer's recorder that keeps each expiry by intent id while the body goes.

Every test works on its own dead-letter queue (``t.dlq.<hex>.dead``, tests/dlq/conftest.py) with
its own expiry exchange, queue and policy, never on ``hub.dead``; the retention is shortened to
one second instead of waiting out days.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, FieldValue
from pamqp.commands import Basic

from hub import names
from hub.broker_admin import ManagementApi, Policy
from hub.dlq.expiries import ExpiryFilter, mysql_expiries
from hub.dlq.expiry_recorder import running_expiry_recorder
from hub.dlq.model import Source
from hub.dlq.retention import RetentionError, RetentionNames, apply_retention, retention_ms
from hub.observability import FamilyRegistry, HubMetrics, LabelBounds
from hub.settings import HubSettings, MySqlSettings
from hub.topology import declare_expiry_route
from tests.dlq.conftest import Stage
from tests.dlq.letters import VENDOR_A, VENDOR_B, Sent, make_poison, message_count, writer_letters
from tests.dlq.test_list_show import hub_cli
from tests.ledger.conftest import root_connection

ONE_SECOND_D = 1 / 86_400  # HUB_DEAD_RETENTION_DAYS for a retention of 1 s
FOURTEEN_D_MS = 14 * 86_400_000
GUARD_S = 30  # a guard against a hang, never a pass/fail timing


@dataclass(frozen=True, kw_only=True)
class Retained:
    """A test's dead queue under a retention policy of its own, and where expiries go."""

    stage: Stage
    names: RetentionNames


@pytest.fixture
async def retained(stage: Stage, management: ManagementApi) -> AsyncIterator[Retained]:
    where = RetentionNames(
        dead_queue=stage.dead,
        expired_exchange=f"{stage.prefix}expired",
        expired_queue=f"{stage.prefix}expired",
        policy=f"t-retention-{uuid.uuid4().hex[:10]}",
    )
    async with await aio_pika.connect(HubSettings().broker_url.get_secret_value()) as connection:
        await declare_expiry_route(await connection.channel(), where)
        yield Retained(stage=stage, names=where)
        await management.delete_policy(where.policy)
        await management.delete_queue(where.expired_queue)
        await (await connection.channel()).exchange_delete(where.expired_exchange)


def _metrics() -> tuple[FamilyRegistry, HubMetrics]:
    registry = FamilyRegistry()
    bounds = LabelBounds(vendors=frozenset({VENDOR_A, VENDOR_B}), offices=frozenset())
    return registry, HubMetrics(registry, bounds)


async def _publish_letters(connection: AbstractConnection, stage: Stage) -> list[Sent]:
    """The writer's three dead letters, each naming its intent's ledger id (41, 42, 43)."""
    channel = await connection.channel(publisher_confirms=True)
    dlx = await channel.get_exchange(stage.dlx)
    sent = writer_letters(stage)
    for intent_id, letter in enumerate(sent, start=41):
        message = letter.message()
        headers: dict[str, FieldValue] = {**message.headers, names.HEADER_INTENT_ID: intent_id}
        message.headers = headers
        confirm = await dlx.publish(message, names.dead_letter_key(letter.office))
        assert isinstance(confirm, Basic.Ack)
    await channel.close()
    return sent


async def _recorded(ledger_db: MySqlSettings, count: int) -> list[tuple[object, ...]]:
    """The expiry rows once there are ``count`` of them (waited for under a guard)."""
    query = (
        "SELECT queue, source, intent_id, vendor, idempotency_key, message_id, office_id, "
        "contract, reason, dead_lettered_at IS NOT NULL, expired_at IS NOT NULL "
        "FROM dead_letter_expiries ORDER BY message_id"
    )
    conn = await root_connection(ledger_db.database)
    try:
        async with asyncio.timeout(GUARD_S), conn.cursor() as cur:
            while True:
                await cur.execute(query)
                rows = list(await cur.fetchall())
                if len(rows) >= count:
                    return rows
                await asyncio.sleep(0.2)
    finally:
        conn.close()


async def _tables_holding(ledger_db: MySqlSettings, text: str) -> list[str]:
    """Every table.column of the hub database whose value contains ``text``."""
    conn = await root_connection(ledger_db.database)
    found: list[str] = []
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = %s", (ledger_db.database,),
            )
            for table, column in list(await cur.fetchall()):
                await cur.execute(
                    f"SELECT COUNT(*) FROM `{table}` WHERE CAST(`{column}` AS CHAR) LIKE %s",
                    (f"%{text}%",),
                )
                (hits,) = await cur.fetchone()
                if hits:
                    found.append(f"{table}.{column}")
    finally:
        conn.close()
    return found


async def test_an_expired_dead_letter_is_recorded_by_intent_id_and_its_body_is_kept_nowhere(
    retained: Retained, management: ManagementApi, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings,
) -> None:
    # Given the test's dead queue with a retention of 1 s, and a writer's recorder running
    stage, where = retained.stage, retained.names
    await apply_retention(management, where, ONE_SECOND_D)
    registry, metrics = _metrics()
    settings = HubSettings(ledger_db=ledger_db)
    async with await aio_pika.connect_robust(
        settings.broker_url.get_secret_value()
    ) as connection, running_expiry_recorder(settings, connection, metrics, where):
        # When three of the writer's dead letters and a broker's poison letter reach it
        await _publish_letters(as_impersonator, stage)
        await make_poison(as_impersonator, stage, VENDOR_A)

        # Then each expiry is recorded once, by intent id and message id
        rows = await _recorded(ledger_db, 4)
    o1, o2, o3 = stage.offices
    assert rows == [
        (stage.dead, "writer", 41, VENDOR_A, "k-a1", "k-a1", o1, "patient.create", "invalid", 1, 1),
        (stage.dead, "writer", 42, VENDOR_B, "k-b1", "k-b1", o1, "appointment.create",
         "retries_exhausted", 1, 1),
        # The poison letter is read from the broker's x-death: its forged x-hub-* are ignored
        (stage.dead, "broker", None, VENDOR_A, "k-poison", "k-poison", o3, "patient.create",
         "delivery_limit", 1, 1),
        (stage.dead, "writer", 43, VENDOR_A, "k-a2", "m-a2", o2, "patient.create", "od_rejected",
         1, 1),
    ]
    # And nothing is left in the dead queue or the expiry queue
    channel = await as_impersonator.channel()
    assert await message_count(channel, stage.dead) == 0
    assert await message_count(channel, where.expired_queue) == 0
    # And no body is in any table of the hub database
    assert await _tables_holding(ledger_db, "Secret-") == []
    assert await _tables_holding(ledger_db, "\"poison\": true") == []
    # And each expiry is counted by office and vendor
    assert registry.get_sample_value(
        "hub_dead_letters_expired_total", {"office": "unknown", "vendor": VENDOR_A}
    ) == 3


async def test_a_redelivered_expiry_makes_no_second_row(
    retained: Retained, management: ManagementApi, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings,
) -> None:
    # Given one dead letter expired into the expiry queue while no recorder ran, and a copy of
    # it there too, as the broker delivers a message again whose ack was lost
    stage, where = retained.stage, retained.names
    await apply_retention(management, where, ONE_SECOND_D)
    await _publish_letters(as_impersonator, stage)
    channel = await as_impersonator.channel(publisher_confirms=True)
    await _until(lambda: _count_is(channel, where.expired_queue, 3))
    expired = await (await channel.get_queue(where.expired_queue)).get(no_ack=False)
    again = aio_pika.Message(
        expired.body, headers=expired.headers, message_id=expired.message_id,
        user_id=expired.user_id, content_type=expired.content_type,
    )
    exchange = await channel.get_exchange(where.expired_exchange)
    await exchange.publish(again, expired.routing_key or "")
    await expired.nack(requeue=True)

    # When a writer's recorder runs, and another one beside it
    settings = HubSettings(ledger_db=ledger_db)
    async with await aio_pika.connect_robust(
        settings.broker_url.get_secret_value()
    ) as connection, running_expiry_recorder(
        settings, connection, _metrics()[1], where
    ), running_expiry_recorder(settings, connection, _metrics()[1], where):
        await _recorded(ledger_db, 3)
        await _until(lambda: _count_is(channel, where.expired_queue, 0))

    # Then the three expiries make three rows, the copy none, and the queue is empty
    rows = await _recorded(ledger_db, 3)
    assert sorted(str(row[5]) for row in rows) == ["k-a1", "k-b1", "m-a2"]


async def test_the_policy_gives_the_dead_queue_its_retention_and_a_new_setting_replaces_it(
    retained: Retained, management: ManagementApi
) -> None:
    # Given the test's dead queue and the default retention of 14 days
    where = retained.names

    # When the retention policy is applied
    await apply_retention(management, where, HubSettings().dead_retention_days)

    # Then the queue's policy has a TTL of 14 days and dead-letters at least once to the route
    expected = {
        "message-ttl": FOURTEEN_D_MS, "dead-letter-exchange": where.expired_exchange,
        "dead-letter-strategy": "at-least-once", "overflow": "reject-publish",
    }
    assert await _effective(management, where) == expected
    (policy,) = [p for p in await management.policies() if p.name == where.policy]
    assert (policy.pattern, policy.apply_to) == (f"^{stage_pattern(where.dead_queue)}$", "queues")

    # And when the setting changes to half a day and the policy is applied again
    await apply_retention(management, where, 0.5)

    # Then the queue's TTL is half a day
    assert await _effective(management, where) == {**expected, "message-ttl": 43_200_000}
    assert retention_ms(ONE_SECOND_D) == 1000


async def test_a_policy_that_would_take_the_retention_away_is_refused_naming_it(
    retained: Retained, management: ManagementApi
) -> None:
    # Given another policy matching the test's dead queue with a higher priority
    where = retained.names
    rival = Policy(
        name=f"{where.policy}-rival", pattern=f"^{stage_pattern(where.dead_queue)}",
        apply_to="all", priority=20, definition={"max-length": 1000},
    )
    await management.put_policy(rival)
    try:
        # When the retention is applied, Then it is refused naming the rival
        with pytest.raises(RetentionError, match=rival.name):
            await apply_retention(management, where, ONE_SECOND_D)
        assert where.policy not in {p.name for p in await management.policies()}
    finally:
        await management.delete_policy(rival.name)


async def test_an_expiry_that_cannot_be_recorded_stays_on_the_expiry_queue(
    retained: Retained, management: ManagementApi, as_impersonator: AbstractConnection,
    empty_database: str, caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a recorder whose hub database has no expiry table (not migrated), handing back fast
    stage, where = retained.stage, retained.names
    await apply_retention(management, where, ONE_SECOND_D)
    settings = HubSettings(ledger_db=MySqlSettings(database=empty_database))
    channel = await as_impersonator.channel()
    caplog.set_level(logging.WARNING, logger="hub.dlq.expiry_recorder")
    async with await aio_pika.connect_robust(
        settings.broker_url.get_secret_value()
    ) as connection, running_expiry_recorder(
        settings, connection, _metrics()[1], where, retry_pause_s=0.05
    ):
        # When three dead letters expire and the recorder has tried each of them at least twice
        await _publish_letters(as_impersonator, stage)
        await _until(lambda: _refusals(caplog, 6))
    # Then every expired letter goes back to the expiry queue once the recorder stops: none
    # was acked unrecorded (a lost one would keep this waiting until the guard fails the test)
    await _until(lambda: _count_is(channel, where.expired_queue, 3))


async def test_hub_dlq_expired_lists_the_record_by_filter_and_never_a_body(
    retained: Retained, management: ManagementApi, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings,
) -> None:
    # Given the three dead letters expired and recorded
    stage, where = retained.stage, retained.names
    await apply_retention(management, where, ONE_SECOND_D)
    settings = HubSettings(ledger_db=ledger_db)
    async with await aio_pika.connect_robust(
        settings.broker_url.get_secret_value()
    ) as connection, running_expiry_recorder(settings, connection, _metrics()[1], where):
        await _publish_letters(as_impersonator, stage)
        await _recorded(ledger_db, 3)

    # When an operator lists vendor A's expiries of the second office, and all as JSON
    env = {"HUB_LEDGER_DB__DATABASE": ledger_db.database}
    code, table, _ = await hub_cli("dlq", "expired", "--vendor", VENDOR_A,
                                   "--office", stage.offices[1], env=_env(env))
    json_code, out, _ = await hub_cli("dlq", "expired", "--since", "1h", "--json", env=_env(env))

    # Then the table names that one intent; the JSON all three, by intent id; no body anywhere
    assert code == 0 and json_code == 0
    assert [line.split()[5:7] for line in table.splitlines()[1:]] == [["k-a2", "43"]]
    listed = json.loads(out)["expiries"]
    assert sorted(e["intent_id"] for e in listed) == [41, 42, 43]
    assert {e["source"] for e in listed} == {Source.WRITER.value}
    assert "Secret" not in table + out
    # And the store's own filter agrees
    async with mysql_expiries(ledger_db) as store:
        by_id = await store.rows(ExpiryFilter(message_id="k-b1"))
    assert [row.expiry.intent_id for row in by_id] == [42]


async def test_the_expiry_record_is_append_only(
    retained: Retained, management: ManagementApi, as_impersonator: AbstractConnection,
    ledger_db: MySqlSettings,
) -> None:
    # Given recorded expiries
    stage, where = retained.stage, retained.names
    await apply_retention(management, where, ONE_SECOND_D)
    settings = HubSettings(ledger_db=ledger_db)
    async with await aio_pika.connect_robust(
        settings.broker_url.get_secret_value()
    ) as connection, running_expiry_recorder(settings, connection, _metrics()[1], where):
        await _publish_letters(as_impersonator, stage)
        await _recorded(ledger_db, 3)

    # When one is deleted or changed, Then the database refuses, and the rows stay as they were
    conn = await root_connection(ledger_db.database)
    try:
        async with conn.cursor() as cur:
            for statement in ("DELETE FROM dead_letter_expiries",
                              "UPDATE dead_letter_expiries SET reason = 'x'"):
                with pytest.raises(Exception, match="append-only"):
                    await cur.execute(statement)
    finally:
        conn.close()
    assert len(await _recorded(ledger_db, 3)) == 3


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``check`` holds, under the guard."""
    async with asyncio.timeout(GUARD_S):
        while True:
            if await check():
                return
            await asyncio.sleep(0.1)


async def _count_is(channel: AbstractChannel, queue: str, expected: int) -> bool:
    return await message_count(channel, queue) == expected


async def _refusals(caplog: pytest.LogCaptureFixture, at_least: int) -> bool:
    return sum("could not record" in r.getMessage() for r in caplog.records) >= at_least


def stage_pattern(queue: str) -> str:
    return queue.replace(".", "\\.")


async def _effective(management: ManagementApi, where: RetentionNames) -> object:
    """The queue's effective policy once the broker applied ours (it does so asynchronously)."""
    async with asyncio.timeout(GUARD_S):
        while True:
            queue = await management.queue(where.dead_queue)
            assert queue is not None
            if queue.effective_policy_definition and (
                await _policy_definition(management, where.policy)
                == queue.effective_policy_definition
            ):
                return queue.effective_policy_definition
            await asyncio.sleep(0.2)


async def _policy_definition(management: ManagementApi, name: str) -> object:
    return next((p.definition for p in await management.policies() if p.name == name), None)


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}
