"""The control tables: pauses with who and why and their log, and lane status with staleness."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.control.model import LaneReport, PauseKind
from hub.control.store import ControlStore
from hub.observability import LaneState
from hub.settings import MySqlSettings
from tests.operations.support import hub_sql


async def _log_actions(db: MySqlSettings) -> list[tuple[object, ...]]:
    return await hub_sql(db, "SELECT name, action, operator, reason FROM pause_log ORDER BY id")


async def _age_row(db: MySqlSettings, writer: str, seconds: int) -> None:
    await hub_sql(db, "UPDATE lane_status SET updated_at = UTC_TIMESTAMP(6) - INTERVAL %s SECOND"
               " WHERE writer_id = %s", (seconds, writer))


async def test_a_pause_is_recorded_with_who_and_why_and_logged(
    store: ControlStore, ledger_db: MySqlSettings
) -> None:
    # Given an office paused by alice, then paused again by bob
    assert await store.pause(PauseKind.OFFICE, "office-1", "alice", "key rotation") is True
    assert await store.pause(PauseKind.OFFICE, "office-1", "bob", "still rotating") is False
    # When the pauses are read
    pauses = await store.pauses()
    # Then the office is paused, by the last operator, for the last reason; no vendor is
    pause = pauses.offices["office-1"]
    assert (pause.paused_by, pause.reason) == ("bob", "still rotating")
    assert pauses.office_paused("office-1") and not pauses.office_paused("office-2")
    assert not pauses.vendors and not pauses.vendor_paused("office-1")
    # And resuming lifts it once; the log keeps every step
    assert await store.resume(PauseKind.OFFICE, "office-1", "carol", None) is True
    assert await store.resume(PauseKind.OFFICE, "office-1", "carol", None) is False
    assert not (await store.pauses()).offices
    assert await _log_actions(ledger_db) == [
        ("office-1", "pause", "alice", "key rotation"),
        ("office-1", "pause", "bob", "still rotating"),
        ("office-1", "resume", "carol", None),
    ]


async def test_an_office_and_a_vendor_of_one_name_are_paused_apart(store: ControlStore) -> None:
    # Given a vendor paused that is named like an office
    await store.pause(PauseKind.VENDOR, "acme", "alice", None)
    # When the pauses are read, Then only the vendor is paused
    pauses = await store.pauses()
    assert pauses.vendor_paused("acme") and not pauses.office_paused("acme")


async def test_lane_status_is_upserted_read_back_and_forgotten(
    store: ControlStore, ledger_db: MySqlSettings
) -> None:
    # Given two writers reporting lanes, one of them twice
    failed_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = LaneReport(office="office-1", state=LaneState.RUNNING, in_flight=2, serving=False,
                       last_error=None, last_error_at=None)
    later = LaneReport(office="office-1", state=LaneState.BACKING_OFF, in_flight=1,
                       serving=True, last_error="retry_later: transient",
                       last_error_at=failed_at)
    await store.report("w1", [first])
    await store.report("w1", [later])
    await store.report("w2", [first])
    # When the rows are read
    rows = await store.lanes()
    # Then each writer has one row per office, the latest report
    assert [(r.writer_id, r.state, r.in_flight, r.serving) for r in rows] == [
        ("w1", "backing_off", 1, True), ("w2", "running", 2, False),
    ]
    assert (rows[0].last_error, rows[0].last_error_at) == ("retry_later: transient", failed_at)
    assert all(r.age_s < 60 for r in rows)
    # And a row no writer refreshed ages, and is forgotten once old enough
    await _age_row(ledger_db, "w2", 3600)
    assert [r.age_s >= 3600 for r in await store.lanes()] == [False, True]
    assert await store.forget_older_than(1800) == 1
    # And a writer that stops forgets its own rows
    await store.forget_writer("w1")
    assert await store.lanes() == []


async def test_writers_beat_and_only_fresh_ones_are_live(
    store: ControlStore, ledger_db: MySqlSettings
) -> None:
    # Given two writers that beat, one of them last a minute ago
    await store.beat("w1")
    await store.beat("w2")
    await hub_sql(ledger_db, "UPDATE writers SET beat_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE "
                  "WHERE writer_id = 'w2'")
    # When the live writers are read with a 15 s limit, Then only the fresh one is live
    assert await store.live_writers(15.0) == frozenset({"w1"})
    # And both rows show, with their beat's age by the database's clock
    assert [(w.writer_id, w.beat_s_ago >= 60) for w in await store.writers()] == [
        ("w1", False), ("w2", True),
    ]
    # And a writer that stops cleanly is gone at once
    await store.forget_writer("w1")
    assert await store.live_writers(15.0) == frozenset()
