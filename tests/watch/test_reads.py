"""The watch's reads of an office's database: indexed (EXPLAIN), bounded, resumable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiomysql
from prometheus_client import CollectorRegistry

from hub.observability import HubMetrics, LabelBounds
from hub.opendental.reconcile_queries import OdTable
from hub.registry import Registry
from hub.settings import MySqlSettings, WatchSettings
from hub.watch import Door, Watch, next_interval, opened_watch
from hub.watch.tables import (
    SIDE_EFFECTS,
    WATCHED,
    office_tables,
    row_sql,
    scan_sql,
    securitylog_sql,
    side_log_sql,
)
from tests.support.mariadb import ROOT
from tests.watch.conftest import Office, hub_settings, new_patient, od_sql, office_time

OFFICE = "office-1"
SCANNED = {
    OdTable.PATIENT, OdTable.APPOINTMENT, OdTable.COMMLOG, OdTable.DOCUMENT, OdTable.ALLERGY,
    OdTable.MEDICATIONPAT, OdTable.DISEASE,
}


async def _explain(database: str, sql: str, args: tuple[object, ...]) -> list[dict[str, object]]:
    conn = await aiomysql.connect(
        host=ROOT.host, port=ROOT.port, user=ROOT.user,
        password=ROOT.password.get_secret_value(), db=database, autocommit=True,
    )
    try:
        async with conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute("EXPLAIN " + sql, args)
            return list(await cur.fetchall())
    finally:
        conn.close()


async def _fill(database: str) -> None:
    """Enough rows that the optimizer would rather scan the table than use a poor index."""
    for _ in range(3):
        await new_patient(database, await office_time(database, -7200))


async def test_every_scan_query_uses_an_index_never_the_whole_table(
    watch: Watch, office: Office
) -> None:
    # Given the simulator's office database with rows in it
    await _fill(office.database)
    tables = await office_tables(watch.watchers[OFFICE].db)
    # Then the tables scanned are those Open Dental indexes by change stamp
    assert {table.table for table in tables if table.scanned} == SCANNED
    assert {table.table for table in tables} == set(OdTable)  # events may name any of them
    # And each scan query, read of a row an event named, and securitylog read uses an index
    stamp = await office_time(office.database, -3600)
    for table in (table for table in tables if table.scanned):
        [plan] = await _explain(office.database, scan_sql(table, 500), (stamp, stamp, 0))
        assert plan["type"] in ("range", "ref"), (table.table, plan)
        assert plan["key"] is not None, (table.table, plan)
        [by_key] = await _explain(office.database, row_sql(table), (1,))
        # (a key no row has is found missing in the primary key before any row is read)
        missing = "Impossible WHERE noticed after reading const tables"
        assert by_key["key"] == "PRIMARY" or by_key["Extra"] == missing, by_key
        [again] = await _explain(office.database, row_sql(table, 3), (1, 2, 3))  # a page's rows
        assert again["key"] == "PRIMARY" or again["Extra"].startswith("Impossible"), again
        log_sql, perms = securitylog_sql(table.table, 3)  # a page's changed rows at once
        [log_plan] = await _explain(office.database, log_sql, (1, 2, 3, *perms))
        assert log_plan["key"] is not None and log_plan["type"] in ("range", "ref"), log_plan
        effect = SIDE_EFFECTS.get(table.table)
        if effect is not None:  # the other table's logs naming the rows, by PatNum
            side_sql, side_perms = side_log_sql(effect, 3)
            [side_plan] = await _explain(office.database, side_sql, (1, 2, 3, *side_perms))
            assert side_plan["key"] is not None, side_plan
            assert side_plan["type"] in ("range", "ref"), side_plan


async def test_the_cursor_pages_and_resumes_after_a_restart(
    ledger_db: MySqlSettings, registry: Registry, watch: Watch, office: Office
) -> None:
    # Given five patients stamped in the same second, and a watch reading two rows a query and
    # one query a table per scan
    at = await office_time(office.database, -100)
    keys = [await new_patient(office.database, at) for _ in range(5)]
    metrics = HubMetrics(CollectorRegistry(), LabelBounds.from_registry(registry))
    settings = hub_settings(ledger_db, batch=2, max_pages=1)
    async with opened_watch(settings, registry, metrics) as small:
        # When it scans three times
        pages = [(await small.watchers[OFFICE].scan_once()).changes for _ in range(3)]
    # Then each scan read on from where the last stopped, within the second
    assert [[c.key for c in page] for page in pages] == [keys[:2], keys[2:4], keys[4:]]
    # When a watch starts again on the same hub database (a restart) and a row changes
    await new_patient(office.database, await office_time(office.database, -50))
    async with opened_watch(hub_settings(ledger_db), registry, metrics) as restarted:
        again = (await restarted.watchers[OFFICE].scan_once()).changes
    # Then it finds only the new row: nothing it had recorded comes back
    assert [c.key for c in again] == [keys[-1] + 1]


async def test_a_row_committed_after_a_scan_went_past_its_stamp_is_still_found(
    watch: Watch, office: Office
) -> None:
    # Given a scan that saw a patient changed 10 s ago
    first = await new_patient(office.database, await office_time(office.database, -10))
    assert [c.key for c in (await watch.watchers[OFFICE].scan_once()).changes] == [first]
    # When a row stamped 3 s before it appears only now (its transaction committed late: the
    # stamp is the UPDATE's moment, the row visible at the commit)
    late = await new_patient(office.database, await office_time(office.database, -13))
    # Then the next scan finds it, and does not report the row it saw again
    assert [c.key for c in (await watch.watchers[OFFICE].scan_once()).changes] == [late]


async def test_old_changes_are_purged_after_the_retention(watch: Watch, office: Office) -> None:
    # Given a change recorded now
    await new_patient(office.database, await office_time(office.database, -100))
    [change] = (await watch.watchers[OFFICE].scan_once()).changes
    since = datetime.now(UTC) - timedelta(days=1)
    # When the purge runs within the retention, Then it stays
    assert await watch.store.purge(timedelta(days=30)) == 0
    assert len(await watch.store.changes(OFFICE, since)) == 1
    # When it runs 31 days later, Then the change and the row's digests are gone
    later = datetime.now(UTC) + timedelta(days=31)
    assert await watch.store.purge(timedelta(days=30), now=later) == 1
    assert await watch.store.changes(OFFICE, since) == []
    assert await watch.store.states(OFFICE, change.table, [change.key]) == {}


def test_the_interval_backs_off_while_the_database_is_slow_and_comes_back() -> None:
    # Given a 30 s interval, a 0.5 s threshold and a 600 s ceiling
    settings = WatchSettings(interval_s=30, slow_query_s=0.5, max_interval_s=600)
    # When scans are slow, Then the interval doubles up to the ceiling
    intervals = [30.0]
    for _ in range(6):
        intervals.append(next_interval(intervals[-1], 0.8, settings))
    assert intervals == [30, 60, 120, 240, 480, 600, 600]
    # When a scan is quick again, Then it is back to 30 s
    assert next_interval(600, 0.01, settings) == 30
    assert Door.UNEXPLAINED.value == "unexplained"
    assert set(WATCHED) == set(OdTable)


async def test_a_documents_image_is_read_as_its_hash_and_still_names_its_change(
    watch: Watch, office: Office
) -> None:
    # Given a document row holding a 2 MB image, seen by the watch
    image = "A" * 2_000_000
    at = await office_time(office.database, -100)
    doc_num = await od_sql(
        office.database, "INSERT INTO document (PatNum, FileName, RawBase64, DateTStamp)"
        " VALUES (1, 'scan.pdf', %s, %s)", (image, at),
    )
    await watch.watchers[OFFICE].scan_once()
    [document] = [t for t in watch.watchers[OFFICE].tables or () if t.table is OdTable.DOCUMENT]
    # Then the scan selects the image's SHA-256, not the image
    assert "SHA2(`RawBase64`, 256) AS `RawBase64`" in document.select
    # When the image is replaced straight in the database
    await od_sql(office.database, "UPDATE document SET RawBase64 = %s, DateTStamp = %s"
                 " WHERE DocNum = %s", ("B" * 2_000_000, await office_time(office.database, -50),
                                        doc_num))
    [change] = (await watch.watchers[OFFICE].scan_once()).changes
    # Then the change names that column, and only it
    assert (change.key, change.columns, change.door) == (doc_num, ("RawBase64",), Door.UNEXPLAINED)
