"""``hub dlq purge``: nothing without a yes; audited in the ledger before anything is removed."""

from __future__ import annotations

import json
import os

import pytest
from aio_pika.abc import AbstractConnection

from hub.dlq import (
    DeadLetterFilter,
    DlqError,
    Operator,
    PurgePlan,
    purge_dead_letters,
)
from hub.settings import HubSettings, MySqlSettings
from tests.dlq.conftest import Stage
from tests.dlq.letters import VENDOR_A, drain_ids, fill
from tests.dlq.test_list_show import IN_ORDER, hub_cli
from tests.ledger.conftest import root_connection, settings_for
from tests.support.audit import drop_the_trail, said, trail

OPERATOR = Operator(os_user="alice", name="Alice Ops")


async def audit_rows(database: str) -> list[tuple[object, ...]]:
    conn = await root_connection(database)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT p.id, p.os_user, p.operator, p.queue, p.filter_json, p.message_count, "
                "m.message_id, m.vendor, m.idempotency_key, m.reason "
                "FROM dlq_purges p JOIN dlq_purged_messages m ON m.purge_id = p.id "
                "ORDER BY p.id, m.position"
            )
            return list(await cur.fetchall())
    finally:
        conn.close()


async def manifest_audit_ids(database: str) -> list[int]:
    conn = await root_connection(database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT audit_id FROM dlq_purges ORDER BY id")
            return [audit_id for (audit_id,) in await cur.fetchall()]
    finally:
        conn.close()


async def test_purge_removes_only_the_matches_after_recording_them(
    stage: Stage, as_impersonator: AbstractConnection, ledger_db: MySqlSettings
) -> None:
    # Given the four dead letters and a migrated ledger
    await fill(as_impersonator, stage)
    asked: list[PurgePlan] = []

    async def yes(plan: PurgePlan) -> bool:
        asked.append(plan)
        return True

    # When vendor A's patient.create dead letters are purged and the operator confirms
    wanted = DeadLetterFilter(vendor=VENDOR_A, contract="patient.create")
    report = await purge_dead_letters(
        HubSettings(ledger_db=ledger_db), wanted, operator=OPERATOR, confirm=yes,
        where=stage.where,
    )

    # Then the operator was shown the three matches, and exactly those left the queue
    assert [letter.message_id for letter in asked[0].letters] == ["k-a1", "m-a2", "k-poison"]
    assert report.purged == 3
    assert await drain_ids(as_impersonator, stage.dead) == ["k-b1"]
    # And the ledger records who purged what, with which filter
    rows = await audit_rows(ledger_db.database)
    assert {row[:4] + row[5:6] for row in rows} == {
        (report.purge_id, "alice", "Alice Ops", stage.dead, 3)
    }
    assert json.loads(str(rows[0][4])) == {
        "vendor": VENDOR_A, "contract": "patient.create", "limit": 100
    }
    assert [row[6:] for row in rows] == [
        ("k-a1", VENDOR_A, "k-a1", "invalid"),
        ("m-a2", VENDOR_A, "k-a2", "od_rejected"),
        ("k-poison", VENDOR_A, "k-poison", "delivery_limit"),
    ]
    # And the audit trail has the purge, its manifest pointing at it
    (entry,) = await trail(ledger_db)
    assert said([entry]) == [("dlq_purge", stage.dead, "ok", None)]
    assert (entry.id, entry.os_user, entry.operator) == (report.audit_id, "alice", "Alice Ops")
    assert entry.details == {"filter": json.loads(str(rows[0][4])), "letters": 3}
    assert entry.outcome == {"purge_id": report.purge_id, "purged": 3}
    assert await manifest_audit_ids(ledger_db.database) == [entry.id]


async def test_purge_that_cannot_be_recorded_removes_nothing(
    stage: Stage, as_impersonator: AbstractConnection, empty_database: str
) -> None:
    # Given the four dead letters and a ledger database without the dlq_purges table
    await fill(as_impersonator, stage)
    settings = HubSettings(ledger_db=settings_for(empty_database))

    async def yes(plan: PurgePlan) -> bool:
        return True

    # When everything is purged with confirmation
    with pytest.raises(DlqError) as failed:
        await purge_dead_letters(
            settings, DeadLetterFilter(), operator=OPERATOR, confirm=yes, where=stage.where
        )

    # Then it fails saying nothing was purged, and every dead letter is still there, in order
    assert "nothing was purged" in str(failed.value)
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER


async def test_purge_without_confirmation_does_nothing(
    stage: Stage, as_impersonator: AbstractConnection, ledger_db: MySqlSettings
) -> None:
    # Given the four dead letters
    await fill(as_impersonator, stage)
    env = {**os.environ, "HUB_LEDGER_DB__DATABASE": ledger_db.database}

    # When `hub dlq purge` is answered "no"
    code, out, _ = await hub_cli(
        "dlq", "purge", "--vendor", VENDOR_A, "--queue", stage.dead, stdin=b"no\n", env=env
    )

    # Then it showed the count and filter, purged nothing, recorded nothing and exited 1
    assert code == 1
    assert f'3 dead letter(s) in {stage.dead} match {{"limit": 100, "vendor": "{VENDOR_A}"}}' in out
    assert "nothing purged" in out
    assert await audit_rows(ledger_db.database) == []
    assert await trail(ledger_db) == []
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER


async def test_purge_with_yes_asks_nothing_and_records_the_operator(
    stage: Stage, as_impersonator: AbstractConnection, ledger_db: MySqlSettings
) -> None:
    # Given the four dead letters and a migrated ledger the command's settings name
    await fill(as_impersonator, stage)
    env = {**os.environ, "HUB_LEDGER_DB__DATABASE": ledger_db.database}

    # When `hub dlq purge --yes --operator bob` purges the poison message, with no stdin
    code, out, _ = await hub_cli(
        "dlq", "purge", "--reason", "delivery_limit", "--yes", "--operator", "bob",
        "--queue", stage.dead, env=env,
    )

    # Then it purged that one, recorded bob, and left the others in order
    assert code == 0 and "purged 1 dead letter(s)" in out
    rows = await audit_rows(ledger_db.database)
    assert [(row[2], row[6]) for row in rows] == [("bob", "k-poison")]
    assert [(e.operator, e.action, e.result.value) for e in await trail(ledger_db)] == [
        ("bob", "dlq_purge", "ok")
    ]
    assert await drain_ids(as_impersonator, stage.dead) == ["k-a1", "k-b1", "m-a2"]


async def test_purge_whose_manifest_cannot_be_recorded_removes_nothing_and_ends_failed(
    stage: Stage, as_impersonator: AbstractConnection, ledger_db: MySqlSettings
) -> None:
    # Given the four dead letters and a ledger that lost its manifest of purged messages
    await fill(as_impersonator, stage)
    conn = await root_connection(ledger_db.database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("DROP TABLE dlq_purged_messages")
    finally:
        conn.close()

    async def yes(plan: PurgePlan) -> bool:
        return True

    # When everything is purged with confirmation
    with pytest.raises(DlqError) as failed:
        await purge_dead_letters(
            HubSettings(ledger_db=ledger_db), DeadLetterFilter(), operator=OPERATOR,
            confirm=yes, where=stage.where,
        )

    # Then nothing was purged, and the audit entry written first ends failed
    assert "nothing was purged" in str(failed.value)
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER
    assert said(await trail(ledger_db)) == [("dlq_purge", stage.dead, "failed", "DlqError")]


async def test_purge_that_cannot_be_audited_removes_nothing(
    stage: Stage, as_impersonator: AbstractConnection, ledger_db: MySqlSettings
) -> None:
    # Given the four dead letters and a migrated ledger whose audit table is gone
    await fill(as_impersonator, stage)
    await drop_the_trail(ledger_db)

    async def yes(plan: PurgePlan) -> bool:
        return True

    # When everything is purged with confirmation
    with pytest.raises(DlqError) as failed:
        await purge_dead_letters(
            HubSettings(ledger_db=ledger_db), DeadLetterFilter(), operator=OPERATOR,
            confirm=yes, where=stage.where,
        )

    # Then nothing was purged, and no manifest was written either
    assert "nothing was purged" in str(failed.value)
    assert await drain_ids(as_impersonator, stage.dead) == IN_ORDER
    assert await audit_rows(ledger_db.database) == []
