"""``hub watch`` as a process: it scans at its interval, serves its metrics and the events
endpoint, and stops cleanly when told."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from hub.opendental.reconcile_queries import OdTable
from hub.settings import HubSettings, MySqlSettings, WatchSettings
from hub.watch import Door, WatchStore, run_watch
from odsim.config import DEFAULT_CUSTOMER
from tests.observability.expressions import ALERTS
from tests.observability.prometheus_server import PrometheusApi, ScrapeJob, running_prometheus
from tests.trace.conftest import CUSTOMER_KEY_ENV, OD_PASSWORD_ENV
from tests.watch.conftest import Office, new_patient, office_time

GUARD_S = 30.0  # a guard, not a timing: how long the loop may take to see what it must
POLL_S = 0.05


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(GUARD_S):  # polling the hub database, which has no push
        while True:
            if await check():
                return
            await asyncio.sleep(POLL_S)


async def test_the_watch_scans_serves_and_stops(
    ledger_db: MySqlSettings, registry_file: Path, office: Office
) -> None:
    # Given hub watch running with a short interval, its ports chosen
    metrics_port, events_port = _free_port(), _free_port()
    settings = HubSettings(
        ledger_db=ledger_db, registry_path=registry_file, metrics_host="127.0.0.1",
        watch=WatchSettings(interval_s=0.05, metrics_port=metrics_port, events_port=events_port),
    )
    environ = {CUSTOMER_KEY_ENV: DEFAULT_CUSTOMER.key, OD_PASSWORD_ENV: "od_readonly"}
    stop = asyncio.Event()
    running = asyncio.create_task(run_watch(settings, environ, stop))
    store = await WatchStore.open(ledger_db)
    try:
        since = datetime.now(UTC) - timedelta(days=1)
        await _until(lambda: _has_cursor(store))
        # When a program writes a patient straight into the database
        pat_num = await new_patient(office.database, await office_time(office.database, 0))

        async def seen() -> bool:
            return any(c.key == pat_num for c in await store.changes("office-1", since))

        # Then the watch records it within its interval, unexplained, and counts it
        await _until(seen)
        async with httpx.AsyncClient() as client:
            metrics = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
            refused = await client.post(
                f"http://127.0.0.1:{events_port}/od-events/office-1", json=[],
                headers={"Authorization": "not-the-key"},
            )
        assert 'hub_changes_total{door="unexplained",office="office-1"} 1.0' in metrics.text
        assert refused.status_code == 401
        [change] = [c for c in await store.changes("office-1", since) if c.key == pat_num]
        assert change.door is Door.UNEXPLAINED
        # When it is told to stop, Then it stops
        stop.set()
        await asyncio.wait_for(running, GUARD_S)
    finally:
        stop.set()
        await store.close()
        if not running.done():
            running.cancel()


async def test_a_direct_write_raises_the_alert_in_a_real_prometheus(
    ledger_db: MySqlSettings, registry_file: Path, office: Office, tmp_path: Path
) -> None:
    # Given hub watch running, scraped every second by a real Prometheus with the hub's rules
    metrics_port = _free_port()
    settings = HubSettings(
        ledger_db=ledger_db, registry_path=registry_file, metrics_host="127.0.0.1",
        watch=WatchSettings(interval_s=0.05, metrics_port=metrics_port, events_port=0),
    )
    environ = {CUSTOMER_KEY_ENV: DEFAULT_CUSTOMER.key, OD_PASSWORD_ENV: "od_readonly"}
    stop = asyncio.Event()
    running = asyncio.create_task(run_watch(settings, environ, stop))
    store = await WatchStore.open(ledger_db)
    jobs = [ScrapeJob(name="hub-watch", target=f"127.0.0.1:{metrics_port}")]
    try:
        async with running_prometheus(tmp_path, jobs, rule_files=[ALERTS]) as prometheus:
            await _until(lambda: _has_cursor(store))
            await _until(lambda: _scraped(prometheus))
            # When a program writes a patient straight into the office's database
            await new_patient(office.database, await office_time(office.database, 0))
            # Then HubUnexplainedChanges fires for the office
            await _until(lambda: _firing(prometheus))
        stop.set()
        await asyncio.wait_for(running, GUARD_S)
    finally:
        stop.set()
        await store.close()
        if not running.done():
            running.cancel()


async def _scraped(prometheus: PrometheusApi) -> bool:
    return bool(await prometheus.query('hub_changes_total{door="unexplained"}'))


async def _firing(prometheus: PrometheusApi) -> bool:
    alerts = await prometheus.query('ALERTS{alertname="HubUnexplainedChanges",alertstate="firing"}')
    return any(a["metric"].get("office") == "office-1" for a in alerts)


async def _has_cursor(store: WatchStore) -> bool:
    return await store.cursor("office-1", OdTable.PATIENT) is not None
