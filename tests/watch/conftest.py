"""Watch fixtures: the trace tests' simulator office, ledger and writer (a real intent goes
through the ledger and the simulator's API), the watch opened on them, and the other doors'
changes made the way each door makes them, with SQL on the simulator's database:

- a person at the front desk: the row changes and Open Dental logs it with the user's UserNum
  and LogSource None (0);
- another developer's program: LogSource API (23), "… by {its DevName} through API.";
- a program writing the database directly: the row changes, nothing is logged, SecurityHash
  is left as it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiomysql
import pytest
from prometheus_client import CollectorRegistry

from hub.observability import HubMetrics, LabelBounds
from hub.registry import Registry, load_registry
from hub.settings import HubSettings, MySqlSettings, WatchSettings
from hub.watch import Watch, opened_watch
from hub.watch.store import Cursor
from hub.watch.tables import WATCHED
from odsim.config import DEFAULT_CUSTOMER
from tests.support.mariadb import ROOT
from tests.trace.conftest import (
    CUSTOMER_KEY_ENV,
    OD_PASSWORD_ENV,
    Office,
    http,
    ledger,
    ledger_db,
    office,
    other_program,
    registry_file,
    registry_text,
    trace,
    writer,
)

__all__ = [
    "http", "ledger", "ledger_db", "office", "other_program", "registry_file", "trace", "writer"
]

OTHER_DEV_NAME = "Reminders Inc"
FRONT_DESK_USER = 7
LOG_SOURCE_NONE = 0
LOG_SOURCE_API = 23
PATIENT_EDIT = 108  # securitylog.PermType
ENV = {CUSTOMER_KEY_ENV: DEFAULT_CUSTOMER.key, OD_PASSWORD_ENV: "od_readonly"}


@pytest.fixture
def registry(tmp_path: Path, office: Office) -> Registry:
    path = tmp_path / "registry.toml"
    path.write_text(registry_text(office), encoding="utf-8")
    return load_registry(path, ENV)


def hub_settings(ledger_db: MySqlSettings, **watch: object) -> HubSettings:
    return HubSettings(ledger_db=ledger_db, watch=WatchSettings.model_validate(watch))


@pytest.fixture
def metrics_registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def watch(
    ledger_db: MySqlSettings, registry: Registry, metrics_registry: CollectorRegistry,
    office: Office,
) -> AsyncIterator[Watch]:
    """The watch over office-1, its cursors set an hour back on the office's clock, so that the
    other doors' changes can be stamped in the past, in order, without waiting for the clock."""
    metrics = HubMetrics(metrics_registry, LabelBounds.from_registry(registry))
    async with opened_watch(hub_settings(ledger_db), registry, metrics) as opened:
        start = await office_time(office.database, -3600)
        for table in WATCHED:
            await opened.store.save_cursor("office-1", table, Cursor(stamp=start, last_key=0))
        yield opened


async def od_sql(database: str, sql: str, args: tuple[object, ...] = ()) -> int:
    """One statement on the simulator's office database, as root (the other doors); the id it
    inserted, if any."""
    conn = await aiomysql.connect(
        host=ROOT.host, port=ROOT.port, user=ROOT.user,
        password=ROOT.password.get_secret_value(), db=database, autocommit=True,
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql, args)
            return int(cur.lastrowid or 0)
    finally:
        conn.close()


async def hub_sql(hub_db: MySqlSettings, sql: str, args: tuple[object, ...] = ()) -> None:
    """One statement on the hub database (the watch's own tables), to set its clocks back."""
    await od_sql(hub_db.database, sql, args)


async def office_time(database: str, offset_s: int) -> datetime:
    """The office server's clock, ``offset_s`` seconds away, to the second."""
    conn = await aiomysql.connect(
        host=ROOT.host, port=ROOT.port, user=ROOT.user,
        password=ROOT.password.get_secret_value(), db=database, autocommit=True,
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT NOW() + INTERVAL %s SECOND", (offset_s,))
            row = await cur.fetchone()
    finally:
        conn.close()
    assert row is not None and isinstance(row[0], datetime)
    return row[0]


async def new_patient(database: str, at: datetime) -> int:
    """A patient row as some program left it (no log): the watch's first sight of it."""
    return await od_sql(
        database, "INSERT INTO patient (LName, FName, DateTStamp) VALUES ('Row', 'Test', %s)",
        (at,),
    )


async def _change(database: str, pat_num: int, column: str, value: object, at: datetime) -> None:
    await od_sql(
        database, f"UPDATE patient SET `{column}` = %s, DateTStamp = %s WHERE PatNum = %s",
        (value, at, pat_num),
    )


async def log_change(
    database: str, *, fkey: int, source: int, user_num: int, text: str, at: datetime
) -> None:
    await od_sql(
        database,
        "INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, PatNum, CompName,"
        " FKey, LogSource) VALUES (%s, %s, %s, %s, %s, 'FRONTDESK1', %s, %s)",
        (PATIENT_EDIT, user_num, at, text, fkey, fkey, source),
    )


async def front_desk(
    database: str, pat_num: int, column: str, value: object, at: datetime
) -> None:
    await _change(database, pat_num, column, value, at)
    await log_change(database, fkey=pat_num, source=LOG_SOURCE_NONE, user_num=FRONT_DESK_USER,
                     text="Patient edited.", at=at)


async def other_api(database: str, pat_num: int, column: str, value: object, at: datetime) -> None:
    await _change(database, pat_num, column, value, at)
    await log_change(database, fkey=pat_num, source=LOG_SOURCE_API, user_num=0,
                     text=f"Patient edited by {OTHER_DEV_NAME} through API.", at=at)


async def direct(database: str, pat_num: int, column: str, value: object, at: datetime) -> None:
    await _change(database, pat_num, column, value, at)
