"""The trail itself: an entry is committed before its action and finished after; the table is
append-only (its triggers); an unavailable trail stops the action before it starts."""

from __future__ import annotations

import uuid

import aiomysql
import pytest
from pydantic import SecretStr

from hub.audit import (
    AuditAction,
    AuditEntry,
    AuditError,
    AuditFilter,
    AuditResult,
    MySqlAuditTrail,
    Operator,
    audit,
    mysql_trail,
)
from hub.settings import MySqlSettings
from tests.ledger.conftest import settings_for
from tests.support.audit import ALICE, as_root, drop_the_trail, said, trail
from tests.support.mariadb import root_sql

PAUSE = AuditEntry(
    operator=ALICE, action=AuditAction.OFFICE_PAUSE, target="office-7",
    details={"reason": "checking"},
)


async def rows_seen_elsewhere(database: str) -> list[tuple[object, ...]]:
    """The trail as another session sees it: only what was committed."""
    conn = await aiomysql.connect(host="127.0.0.1", user="root", db=database, autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT action, target, result FROM operator_audit ORDER BY id")
            return list(await cur.fetchall())
    finally:
        conn.close()


async def test_an_entry_is_committed_before_the_action_and_its_result_recorded_after(
    hub_db: MySqlSettings,
) -> None:
    # Given the hub database's trail
    seen_during: list[tuple[object, ...]] = []

    # When an action runs audited, and looks at the trail from another session meanwhile
    async with audit(hub_db, PAUSE) as run:
        seen_during = await rows_seen_elsewhere(hub_db.database)
        run.note(changed=True)

    # Then its entry was committed, pending, before the action ran
    assert seen_during == [("office_pause", "office-7", "pending")]
    # And afterwards it is ok, with what the action reported, who did it and when
    (entry,) = await trail(hub_db)
    assert said([entry]) == [("office_pause", "office-7", "ok", None)]
    assert (entry.os_user, entry.operator) == ("alice", "Alice Ops")
    assert (entry.details, entry.outcome) == ({"reason": "checking"}, {"changed": True})
    assert entry.finished_at is not None and entry.finished_at >= entry.at


class Refused(Exception):
    """What an action raised."""


async def test_an_action_that_fails_ends_failed_with_its_error_class_or_its_code(
    hub_db: MySqlSettings,
) -> None:
    # Given the trail, When one action raises and another reports it could not be done
    with pytest.raises(Refused):
        async with audit(hub_db, PAUSE) as run:
            run.note(step=1)
            raise Refused("the broker said no")
    async with audit(hub_db, PAUSE) as run:
        run.fail("no_vendor_user")

    # Then both end failed: the first with its exception's class (never its message), the
    # second with its code, each with what it reported before it failed
    first, second = await trail(hub_db)
    assert said([first, second]) == [
        ("office_pause", "office-7", "failed", "Refused"),
        ("office_pause", "office-7", "failed", "no_vendor_user"),
    ]
    assert first.outcome == {"step": 1}
    assert "the broker said no" not in repr(first)


async def test_a_trail_that_cannot_be_written_stops_the_action_before_it_starts(
    hub_db: MySqlSettings,
) -> None:
    # Given a hub database whose audit table is gone
    await drop_the_trail(hub_db)
    ran: list[str] = []

    # When an audited action is attempted
    with pytest.raises(AuditError) as refused:
        async with audit(hub_db, PAUSE):
            ran.append("the action")

    # Then it never ran, and the error says nothing was done and how to repair the schema
    assert ran == []
    assert "nothing was done" in str(refused.value)
    assert "hub migrate" in str(refused.value)


async def test_rows_cannot_be_deleted_or_rewritten_only_a_pending_result_recorded_once(
    hub_db: MySqlSettings,
) -> None:
    # Given one finished entry and one pending (its command died)
    async with audit(hub_db, PAUSE):
        pass
    async with mysql_trail(hub_db) as opened:
        pending = await opened.begin(PAUSE)
    database = hub_db.database

    # When anyone deletes a row, rewrites what it says, or sets a finished row's result again,
    # Then the database refuses (the triggers)
    refusals: tuple[tuple[str, tuple[object, ...]], ...] = (
        ("DELETE FROM operator_audit", ()),
        ("UPDATE operator_audit SET target = 'office-8' WHERE id = %s", (pending,)),
        ("UPDATE operator_audit SET details = '{}' WHERE id = %s", (pending,)),
        ("UPDATE operator_audit SET operator = 'mallory' WHERE id = %s", (pending,)),
        ("UPDATE operator_audit SET result = 'failed' WHERE result = 'ok'", ()),
        ("UPDATE operator_audit SET result = 'pending', error = NULL WHERE result = 'ok'", ()),
    )
    for sql, args in refusals:
        with pytest.raises(aiomysql.OperationalError) as refused:
            await as_root(database, sql, args)
        assert refused.value.args[0] == 1644, sql  # SIGNAL from the trigger
        assert "append-only" in refused.value.args[1]
    # And the pending row's result is recorded once, through the trail; a second time is not
    async with mysql_trail(hub_db) as opened:
        finished = await opened.finish(pending, AuditResult.FAILED, error="cancelled", outcome={})
        again = await opened.finish(pending, AuditResult.OK, error=None, outcome={})
    assert (finished, again) == (True, False)
    assert said(await trail(hub_db)) == [
        ("office_pause", "office-7", "ok", None),
        ("office_pause", "office-7", "failed", "cancelled"),
    ]


async def test_the_trail_is_filtered_by_action_operator_target_result_and_time(
    hub_db: MySqlSettings,
) -> None:
    # Given entries of two operators on two targets, one failed
    bob = Operator(os_user="root", name="bob")
    entries = (
        PAUSE,
        AuditEntry(operator=bob, action=AuditAction.VENDOR_REMOVE, target="acme", details={}),
        AuditEntry(operator=bob, action=AuditAction.OFFICE_PAUSE, target="office-8", details={}),
    )
    for entry in entries:
        async with audit(hub_db, entry) as run:
            if entry.target == "acme":
                run.fail("no_vendor_user")
    everything = await trail(hub_db)
    first_at, last_at = everything[0].at, everything[-1].at

    # When the trail is read with each filter, Then each gives only its rows, oldest first
    async def targets(wanted: AuditFilter) -> list[str]:
        return [row.target for row in await trail(hub_db, wanted)]

    assert await targets(AuditFilter()) == ["office-7", "acme", "office-8"]
    assert await targets(AuditFilter(action="office_pause")) == ["office-7", "office-8"]
    assert await targets(AuditFilter(operator="bob")) == ["acme", "office-8"]
    assert await targets(AuditFilter(operator="alice")) == ["office-7"]  # the OS user too
    assert await targets(AuditFilter(target="acme")) == ["acme"]
    assert await targets(AuditFilter(result=AuditResult.FAILED)) == ["acme"]
    assert await targets(AuditFilter(since=last_at)) == ["office-8"]
    assert await targets(AuditFilter(until=first_at)) == []
    assert await targets(AuditFilter(limit=2)) == ["acme", "office-8"]  # the newest two


async def test_a_missing_trail_is_an_audit_error_when_read(empty_database: str) -> None:
    # Given a database never migrated, When the trail is read, Then AuditError names hub migrate
    trail_of = await MySqlAuditTrail.open(settings_for(empty_database))
    try:
        with pytest.raises(AuditError, match="hub migrate"):
            await trail_of.entries(AuditFilter())
    finally:
        await trail_of.close()


# The grants docs/operations.md ("Audit trail") gives the hub's account on the trail.
DOCUMENTED_GRANTS = (
    "GRANT SELECT, INSERT ON `{db}`.operator_audit TO '{user}'@'%'",
    "GRANT UPDATE (result, error, outcome, finished_at) ON `{db}`.operator_audit TO '{user}'@'%'",
)


async def test_the_documented_grants_let_the_hub_keep_its_trail_and_nothing_more(
    hub_db: MySqlSettings,
) -> None:
    # Given an account with only the grants the operations guide documents
    user, password = f"t_audit_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    await root_sql(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    try:
        for grant in DOCUMENTED_GRANTS:
            await root_sql(grant.format(db=hub_db.database, user=user))
        account = hub_db.model_copy(update={"user": user, "password": SecretStr(password)})

        # When the hub audits an action and reads its trail as that account
        async with audit(account, PAUSE) as run:
            run.note(changed=True)
        rows = await trail(account)

        # Then it could; but the account can neither delete a row nor rewrite what it says
        assert said(rows) == [("office_pause", "office-7", "ok", None)]
        conn = await aiomysql.connect(host=account.host, port=account.port, user=user,
                                      password=password, db=account.database, autocommit=True)
        try:
            async with conn.cursor() as cur:
                for sql in ("DELETE FROM operator_audit",
                            "UPDATE operator_audit SET target = 'office-8'"):
                    with pytest.raises(aiomysql.OperationalError) as denied:
                        await cur.execute(sql)
                    assert denied.value.args[0] in (1142, 1143), sql  # command / column denied
        finally:
            conn.close()
    finally:
        await root_sql(f"DROP USER IF EXISTS '{user}'@'%'")
