import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from hub.ledger import migrate, migration_status
from hub.ledger.migrations import MIGRATIONS, Migration
from hub.ledger.migrator import check_order
from tests.ledger.conftest import root_connection, settings_for

ALL_VERSIONS = [m.version for m in MIGRATIONS]
LEDGER_TABLES = {
    "schema_migrations", "intents", "api_calls", "vendor_refs", "dlq_purges", "dlq_purged_messages",
    "pauses", "pause_log", "lane_status", "office_holds", "parked_deliveries", "outcome_outbox",
    "operator_audit", "dead_letter_expiries",
    "sheet_fill_steps", "change_sends", "writers",
    "watch_cursors", "watch_rows", "watch_changes", "watch_digest_key",
}


async def _tables(database: str) -> set[str]:
    conn = await root_connection(database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SHOW TABLES")
            return {name for (name,) in await cur.fetchall()}
    finally:
        conn.close()


async def _recorded_versions(database: str) -> list[int]:
    conn = await root_connection(database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT version FROM schema_migrations ORDER BY version")
            return [version for (version,) in await cur.fetchall()]
    finally:
        conn.close()


async def test_migrate_from_empty_applies_every_version_in_order(empty_database: str) -> None:
    # Given an empty database
    settings = settings_for(empty_database)
    # When the ledger is migrated
    applied = await migrate(settings)
    # Then every version was applied in order, recorded, and the tables exist
    assert applied == ALL_VERSIONS
    assert await _recorded_versions(empty_database) == ALL_VERSIONS
    assert await _tables(empty_database) == LEDGER_TABLES


async def test_second_migrate_applies_nothing(empty_database: str) -> None:
    # Given a migrated database
    settings = settings_for(empty_database)
    await migrate(settings)
    # When it is migrated again
    applied = await migrate(settings)
    # Then nothing is applied and the record is unchanged
    assert applied == []
    assert await _recorded_versions(empty_database) == ALL_VERSIONS


async def test_migrate_creates_a_missing_database(empty_database: str) -> None:
    # Given the database does not exist (the fixture still drops it afterwards)
    conn = await root_connection()
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE `{empty_database}`")
    finally:
        conn.close()
    # When the ledger is migrated
    applied = await migrate(settings_for(empty_database))
    # Then the database was created with every table
    assert applied == ALL_VERSIONS
    assert await _tables(empty_database) == LEDGER_TABLES


async def test_two_concurrent_migrations_apply_each_version_once(empty_database: str) -> None:
    # Given two writers starting at once on an empty database
    settings = settings_for(empty_database)
    # When both migrate concurrently
    first, second = await asyncio.gather(migrate(settings), migrate(settings))
    # Then one applied everything, the other nothing, and each version is recorded once
    assert sorted([first, second]) == [[], ALL_VERSIONS]
    assert await _recorded_versions(empty_database) == ALL_VERSIONS


async def test_a_new_migration_is_applied_alone(empty_database: str) -> None:
    # Given a database at the current version and a build with one more migration
    settings = settings_for(empty_database)
    await migrate(settings)
    later = Migration(
        version=ALL_VERSIONS[-1] + 1,
        name="later",
        statements=("CREATE TABLE later_table (id INT PRIMARY KEY)",),
    )
    # When that build migrates
    applied = await migrate(settings, (*MIGRATIONS, later))
    # Then only the new version is applied
    assert applied == [later.version]
    assert "later_table" in await _tables(empty_database)


async def test_status_lists_pending_then_applied_versions(empty_database: str) -> None:
    # Given an unmigrated database
    settings = settings_for(empty_database)
    # When its status is read before and after migrating
    before = await migration_status(settings)
    await migrate(settings)
    after = await migration_status(settings)
    # Then every version is pending first and applied afterwards
    assert [(s.version, s.applied_at) for s in before] == [(v, None) for v in ALL_VERSIONS]
    assert [s.version for s in after] == ALL_VERSIONS
    assert all(s.applied_at is not None and s.known for s in after)


async def test_status_flags_a_version_this_build_does_not_know(empty_database: str) -> None:
    # Given a database migrated by a newer build
    settings = settings_for(empty_database)
    newer = Migration(version=ALL_VERSIONS[-1] + 1, name="newer", statements=("DO 1",))
    await migrate(settings, (*MIGRATIONS, newer))
    # When this build reads the status
    states = await migration_status(settings)
    # Then the newer version is listed as unknown
    assert [(s.version, s.known) for s in states][-1] == (newer.version, False)


def test_migrations_must_be_in_increasing_order() -> None:
    # Given migrations out of order, When checked, Then they are refused
    one = Migration(version=1, name="one", statements=())
    with pytest.raises(ValueError):
        check_order((one, one))
    # And the shipped list is in order
    check_order(MIGRATIONS)


async def _hub_migrate(database: str, *args: str, cwd: Path) -> tuple[int, str]:
    env = {
        **os.environ,
        "HUB_LEDGER_DB__HOST": "127.0.0.1",
        "HUB_LEDGER_DB__PORT": "3306",
        "HUB_LEDGER_DB__USER": "root",
        "HUB_LEDGER_DB__PASSWORD": "",
        "HUB_LEDGER_DB__DATABASE": database,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from hub.cli import main; main()", "migrate", *args,
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode()


async def test_hub_migrate_command(empty_database: str, tmp_path: Path) -> None:
    # Given an empty ledger database
    # When `hub migrate` runs twice, then `hub migrate --status`
    first = await _hub_migrate(empty_database, cwd=tmp_path)
    second = await _hub_migrate(empty_database, cwd=tmp_path)
    status = await _hub_migrate(empty_database, "--status", cwd=tmp_path)
    # Then it applies everything, then says it is up to date, then lists applied versions
    assert first[0] == 0
    assert [line.split()[1] for line in first[1].splitlines()] == [str(v) for v in ALL_VERSIONS]
    assert second == (0, "up to date\n")
    assert status[0] == 0
    assert [line.split()[0] for line in status[1].splitlines()] == [str(v) for v in ALL_VERSIONS]
    assert "pending" not in status[1]


async def test_purges_and_pauses_recorded_before_the_audit_trail_join_it(
    empty_database: str,
) -> None:
    # Given a ledger at version 9 holding a purge and two pauses' log, as the hub recorded them
    # before the audit trail existed (a purge's operator could be unnamed)
    settings = settings_for(empty_database)
    await migrate(settings, [m for m in MIGRATIONS if m.version < 10])
    conn = await root_connection(empty_database)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO dlq_purges (purged_at, os_user, operator, queue, filter_json, "
                "message_count) VALUES ('2026-01-02 10:00:00', 'alice', NULL, 'hub.dead', "
                "'{\"limit\": 100, \"vendor\": \"acme\"}', 3)"
            )
            await cur.execute(
                "INSERT INTO pause_log (kind, name, action, operator, reason, at) VALUES "
                "('office', 'office-1', 'pause', 'bob', 'quiet', '2026-01-02 09:00:00'), "
                "('vendor', 'acme', 'resume', 'bob', NULL, '2026-01-02 11:00:00')"
            )
    finally:
        conn.close()

    # When the ledger is migrated to the audit trail's version
    await migrate(settings)

    # Then each joined the trail in time order: the pauses done (committed with the pause),
    # the purge pending (its end was never recorded), its manifest pointing at its entry
    conn = await root_connection(empty_database)
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT id, os_user, operator, action, target, details, result "
                "FROM operator_audit ORDER BY id"
            )
            rows = await cur.fetchall()
            await cur.execute("SELECT audit_id FROM dlq_purges")
            (purge_audit_id,) = await cur.fetchone()
    finally:
        conn.close()
    assert [row[1:5] + row[6:] for row in rows] == [
        (None, "bob", "office_pause", "office-1", "ok"),
        ("alice", "alice", "dlq_purge", "hub.dead", "pending"),
        (None, "bob", "vendor_resume", "acme", "ok"),
    ]
    assert json.loads(rows[1][5]) == {
        "queue": "hub.dead", "filter": {"limit": 100, "vendor": "acme"}, "letters": 3,
        "purge_id": 1, "recorded_in": "dlq_purges",
    }
    assert json.loads(rows[0][5]) == {"reason": "quiet", "recorded_in": "pause_log"}
    assert purge_audit_id == rows[1][0]
