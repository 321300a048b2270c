"""hub bench -s watch, tiny: two offices' Open Dental databases built by ``hub sim`` and the lab's
fills, ``hub watch`` as a child process at a shortened interval, the front desks' changes, and a
report whose counts agree. Never a timing threshold."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiomysql
import pytest

from hub.settings import HubSettings
from lab.bench.config import BenchError, BenchOptions, Scenario, WatchOptions
from lab.bench.front_desk import ChangeKind, schedule
from lab.bench.run import run_bench
from lab.bench.watch_load import bucket_quantile
from lab.bench.watch_offices import drop_office_databases, watch_offices
from tests.support.mariadb import ROOT

PREFIX = "hubbench_watchtest"  # not the full-size bench's databases
TINY = WatchOptions(
    offices=2, patients=200, appointments=400, seconds=6.0, changes_per_min=60.0,
    database_prefix=PREFIX,
    # A wide log window: on a loaded test machine the server may stall seconds between a front
    # desk's row and its securitylog row, and the door is what this test checks, not the window.
    env={"HUB_WATCH__INTERVAL_S": "1", "HUB_WATCH__MAX_INTERVAL_S": "2",
         "HUB_WATCH__LOG_WINDOW_S": "30"},
)


def _quiet(line: str) -> None:
    """Progress lines are for people."""


@pytest.fixture
async def tiny_offices() -> AsyncIterator[None]:
    yield
    await drop_office_databases(ROOT, watch_offices(TINY.offices, PREFIX))


async def _patients(database: str) -> int:
    conn = await aiomysql.connect(host=ROOT.host, port=ROOT.port, user=ROOT.user,
                                  password=ROOT.password.get_secret_value(), db=database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT COUNT(*) FROM patient")
            row = await cur.fetchone()
    finally:
        conn.close()
    return int(row[0])


async def test_the_watch_attributes_every_front_desk_change_and_its_load_is_counted(
    tiny_offices: None,
) -> None:
    # Given two offices of 200 patients and 400 appointments, the watch scanning every second
    options = BenchOptions(settings=HubSettings(), scenarios=(Scenario.WATCH,), watch=TINY)
    # When the watch bench runs, six changes per office over six seconds
    report = await run_bench(options, _quiet)
    # Then every change made was attributed, each to the front desk that made it
    watch = report.watch
    assert watch is not None
    assert (watch.built, watch.reused) == (2, 0)
    assert watch.changes_made == 12 == sum(watch.made_by_kind.values())
    assert watch.changes_attributed == watch.changes_made
    assert watch.attributed_by_door == {"open_dental_user": watch.changes_made}
    # And the load was counted: queries, their times, rows read per change, the process
    assert watch.queries > 0 and watch.queries_per_s > 0
    assert sum(watch.queries_by_name.values()) == watch.queries
    assert {"watch_scan_patient", "watch_scan_appointment", "watch_log_appointment"} <= set(
        watch.queries_by_name
    )
    assert 0 < watch.p50_ms <= watch.p99_ms <= watch.p99_bucket_ms
    assert watch.rows_read_per_change > 0 and watch.scan_rows >= watch.changes_made
    assert watch.server_selects_per_s > 0 and watch.disk_mb > 0
    assert watch.watch_rss_mb > 0 and watch.watch_cpu_share > 0
    assert watch.interval_s == 1.0 and watch.office_concurrency >= 1
    assert "12 attributed (open_dental_user 12)" in report.table()

    # When it runs again, the databases are kept (they hold the asked rows)
    again = await run_bench(options, _quiet)
    # Then nothing was built, and the second run's changes were all attributed too
    assert again.watch is not None
    assert (again.watch.built, again.watch.reused) == (0, 2)
    assert again.watch.changes_attributed == again.watch.changes_made == 12
    assert await _patients(f"{PREFIX}_001") == 200


def test_the_changes_are_spread_over_offices_and_time_on_rows_of_their_own() -> None:
    # Given three offices, a minute at twelve changes a minute each
    offices = watch_offices(3, PREFIX)
    # When the window is scheduled
    changes = schedule(offices, seconds=60, per_min=12, patients=100_000, appointments=200_000,
                       run_id="r")
    # Then each office has its twelve, evenly spaced, in the mix, no row changed twice
    assert len(changes) == 36
    assert [c.at_s for c in changes] == sorted(c.at_s for c in changes)
    assert changes[1].at_s - changes[0].at_s == pytest.approx(60 / 36)
    for office in offices:
        mine = [c for c in changes if c.office == office]
        assert len(mine) == 12
        assert {c.kind for c in mine} == set(ChangeKind)
        rows = [(c.kind, c.key) for c in mine if c.kind is not ChangeKind.COMMLOG]
        assert len(set(rows)) == len(rows)


def test_only_the_benchs_databases_can_be_dropped() -> None:
    # Given a prefix that would name another database
    # When offices are asked for under it, Then the bench refuses
    with pytest.raises(BenchError):
        watch_offices(1, "opendental")


def test_the_quantile_is_read_between_two_readings_of_the_histogram() -> None:
    # Given a histogram read twice: 100 observations in between, 98 under 1 ms, 2 under 5 ms
    before = {0.001: 10.0, 0.005: 10.0, float("inf"): 10.0}
    after = {0.001: 108.0, 0.005: 110.0, float("inf"): 110.0}
    # When the quantiles are estimated
    p50, p50_bound = bucket_quantile(0.5, before, after)
    p99, p99_bound = bucket_quantile(0.99, before, after)
    # Then each is inside its bucket, interpolated as Prometheus does
    assert p50_bound == 0.001 and p50 == pytest.approx(0.5 / 0.98 * 0.001)
    assert p99_bound == 0.005 and p99 == pytest.approx(0.001 + 0.004 * 0.5)
