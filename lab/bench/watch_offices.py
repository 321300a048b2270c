"""watch: the offices' Open Dental databases, built once and kept for the next run.

Each office has its own database, ``hubbench_watch_001`` and on, as each real office has its own
server. ``hub sim`` creates them (Open Dental's tables, the seed, the read-only account's grant),
started as a child process on a config naming them and stopped once it answers; the lab then
fills them with SQL from MariaDB's Sequence engine: the patients, their appointments, and the
securitylog rows Open Dental wrote when each was created (the watch reads a row's log by
``FKey``, so the log's size is part of what a change costs). Every stamp is in the past: the
watch starts from "now" and never reads this history.

A database that already holds the asked patients and appointments, and the office's customer
key, is kept as it is (``fresh`` rebuilds it, as a change of the simulator's tables or indexes
needs: a kept database has the ones it was built with); only databases named like the bench's
are ever dropped.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiomysql

from hub.settings import HubSettings, MySqlSettings
from lab.bench.config import DEFAULT_WATCH_DATABASE_PREFIX, BenchError, WatchOptions
from lab.bench.files import OD_READONLY_PASSWORD, OD_READONLY_USER
from lab.bench.procs import HUB_ARGV, start_child
from lab.bench.stage import free_port, wait_answering
from lab.throwaway_databases import drop_databases
from lab.world_config import GeneratedOffice, sim_config_toml

DATABASE = re.compile(r"^hubbench_watch[a-z0-9]*_\d{3}$")  # the only names ever dropped
SIM_READY_TIMEOUT_S = 900.0  # Open Dental's tables in every office database, one after another
FILL_CONCURRENCY = 2  # offices filled at once (the machine has two cores)
HISTORY_DAYS = 1000  # the rows' stamps and log times spread over this many days back
Progress = Callable[[str], None]

# Every front-desk change of the run is made on a row a test never needs to find again, so the
# values are numbered, not realistic (and carry no one's data).
_PAST = f"NOW() - INTERVAL 1 HOUR - INTERVAL (seq MOD {HISTORY_DAYS}) DAY"
_PATIENTS = (
    "INSERT INTO patient (PatNum, LName, FName, PatStatus, Birthdate, Guarantor, PriProv,"
    " BillingType, SecDateEntry, DateTStamp, SecurityHash)"
    " SELECT seq, CONCAT('Bench', seq), 'Watch', 0, DATE '1950-01-01' + INTERVAL (seq MOD 25000)"
    f" DAY, seq, 1, 1, DATE({_PAST}), {_PAST}, SHA2(CONCAT('patient', seq), 256)"
    " FROM seq_1_to_{patients}"
)
_APPOINTMENTS = (
    "INSERT INTO appointment (AptNum, PatNum, AptStatus, Pattern, Op, ProvNum, AptDateTime,"
    " SecDateTEntry, DateTStamp, SecurityHash)"
    " SELECT seq, 1 + seq MOD {patients}, 1, '//XXXX//', 1 + seq MOD 2, 1,"
    " TIMESTAMP '2024-01-01 08:00:00' + INTERVAL (seq MOD 730) DAY"
    f" + INTERVAL (seq MOD 16) * 30 MINUTE, {_PAST}, {_PAST},"
    " SHA2(CONCAT('appointment', seq), 256) FROM seq_1_to_{appointments}"
)
_LOGS = (
    "INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, PatNum, CompName, FKey,"
    " LogSource) SELECT {perm_type}, 1, {past}, {text}, {pat_num}, 'FRONTDESK1', seq, 0"
    " FROM seq_1_to_{rows}"
)
PATIENT_CREATE, APPOINTMENT_CREATE = 106, 25  # securitylog.PermType


def patient_of(appointment: int, patients: int) -> int:
    """The patient an appointment of the fill belongs to."""
    return 1 + appointment % patients


@dataclass(frozen=True)
class WatchOffice:
    number: int
    prefix: str = DEFAULT_WATCH_DATABASE_PREFIX  # the tests' offices have their own

    @property
    def id(self) -> str:
        return f"watch-{self.number:03d}"

    @property
    def customer_key(self) -> str:
        return f"BenchWatchK{self.number:03d}"

    @property
    def key_variable(self) -> str:
        return f"HUB_BENCH_WATCH_KEY_{self.number:03d}"

    @property
    def database(self) -> str:
        return f"{self.prefix}_{self.number:03d}"

    def generated(self) -> GeneratedOffice:
        return GeneratedOffice(id=self.id, customer_key=self.customer_key,
                               customer_key_env=self.key_variable, database=self.database)


def watch_offices(count: int, prefix: str = DEFAULT_WATCH_DATABASE_PREFIX) -> list[WatchOffice]:
    if not DATABASE.match(f"{prefix}_001"):
        raise BenchError(f"office databases are named {DATABASE.pattern}")
    return [WatchOffice(number, prefix) for number in range(1, count + 1)]


@dataclass(frozen=True, kw_only=True)
class OfficeData:
    built: int  # offices whose database this run made
    reused: int  # offices whose database was kept from an earlier run
    build_s: float  # creating and filling the built ones
    disk_mb: float  # data and indexes of every office database, as InnoDB counts them


async def connect(account: MySqlSettings) -> aiomysql.Connection:
    return await aiomysql.connect(
        host=account.host, port=account.port, user=account.user,
        password=account.password.get_secret_value(), autocommit=True,
    )


async def _holds(cur: aiomysql.Cursor, office: WatchOffice, options: WatchOptions) -> bool:
    await cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                      (office.database,))
    if await cur.fetchone() is None:
        return False
    db = office.database
    await cur.execute(
        f"SELECT (SELECT COUNT(*) FROM `{db}`.patient), (SELECT COUNT(*) FROM `{db}`.appointment),"
        f" (SELECT COUNT(*) FROM `{db}`.apikey WHERE CustApiKey = %s)", (office.customer_key,),
    )
    row = await cur.fetchone()
    return tuple(row) == (options.patients, options.appointments, 1)


async def _lacking(
    account: MySqlSettings, offices: Sequence[WatchOffice], options: WatchOptions
) -> list[WatchOffice]:
    if options.fresh:
        return list(offices)
    conn = await connect(account)
    try:
        async with conn.cursor() as cur:
            return [office for office in offices if not await _holds(cur, office, options)]
    finally:
        conn.close()


async def _create(
    settings: HubSettings, offices: Sequence[WatchOffice], workdir: Path
) -> None:
    """``hub sim`` makes the databases; stopped as soon as it answers (the lab writes the rest)."""
    config = workdir / "sim.toml"
    config.write_text(sim_config_toml(
        mode="service", readonly_user=OD_READONLY_USER, readonly_password=OD_READONLY_PASSWORD,
        developer_key=settings.od_developer_key.get_secret_value(),
        offices=[office.generated() for office in offices],
    ), encoding="utf-8")
    port = free_port()
    argv = [*HUB_ARGV, "sim", "--config", str(config), "--port", str(port)]
    child = await start_child("hub sim", argv, os.environ, workdir / "sim.log")
    try:
        await wait_answering(child, f"http://127.0.0.1:{port}/admin/throttle", SIM_READY_TIMEOUT_S)
    finally:
        await child.stop()


def fill_statements(database: str, patients: int, appointments: int) -> list[str]:
    def logs(perm_type: int, text: str, pat_num: str, rows: int) -> str:
        return _LOGS.format(perm_type=perm_type, past=_PAST, text=f"'{text}'", pat_num=pat_num,
                            rows=rows)

    return [
        f"USE `{database}`",
        _PATIENTS.format(patients=patients),
        _APPOINTMENTS.format(patients=patients, appointments=appointments),
        logs(PATIENT_CREATE, "Patient created.", "seq", patients),
        logs(APPOINTMENT_CREATE, "Appointment created.", f"1 + seq MOD {patients}", appointments),
        # Fresh statistics, as a long-lived office's server has them, for the watch's plans.
        "ANALYZE TABLE patient, appointment, securitylog",
    ]


async def _fill(account: MySqlSettings, office: WatchOffice, options: WatchOptions) -> None:
    conn = await connect(account)
    try:
        async with conn.cursor() as cur:
            for statement in fill_statements(office.database, options.patients,
                                             options.appointments):
                await cur.execute(statement)
                await cur.fetchall()  # ANALYZE answers with rows
    finally:
        conn.close()


async def _fill_all(
    account: MySqlSettings, offices: Sequence[WatchOffice], options: WatchOptions,
    progress: Progress,
) -> None:
    limit = asyncio.Semaphore(FILL_CONCURRENCY)
    done = 0

    async def fill(office: WatchOffice) -> None:
        nonlocal done
        async with limit:
            started = time.monotonic()
            await _fill(account, office, options)
            done += 1
            progress(f"watch: {office.database} filled in {time.monotonic() - started:.1f} s "
                     f"({done}/{len(offices)})")

    await asyncio.gather(*(fill(office) for office in offices))


async def _disk_mb(account: MySqlSettings, offices: Sequence[WatchOffice]) -> float:
    conn = await connect(account)
    try:
        async with conn.cursor() as cur:
            marks = ", ".join(["%s"] * len(offices))
            await cur.execute(
                "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES"
                f" WHERE TABLE_SCHEMA IN ({marks})", [office.database for office in offices],
            )
            row = await cur.fetchone()
    finally:
        conn.close()
    return float(row[0]) / 2**20


async def drop_office_databases(account: MySqlSettings, offices: Sequence[WatchOffice]) -> None:
    names = [office.database for office in offices]
    if not all(DATABASE.match(name) for name in names):
        raise BenchError("refusing to drop a database that is not the watch bench's")
    conn = await connect(account)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SET SESSION sql_notes = 0")  # no note for one that is not there
        await drop_databases(conn, names)
    finally:
        conn.close()


async def ready_offices(
    settings: HubSettings, options: WatchOptions, offices: Sequence[WatchOffice], workdir: Path,
    progress: Progress,
) -> OfficeData:
    """Every office's database holding the asked rows: kept, or built now."""
    account = settings.ledger_db
    started = time.monotonic()
    lacking = await _lacking(account, offices, options)
    if lacking:
        progress(f"watch: building {len(lacking)} office database(s) of {options.patients:,} "
                 f"patients and {options.appointments:,} appointments "
                 f"({len(offices) - len(lacking)} kept)")
        await drop_office_databases(account, lacking)
        await _create(settings, lacking, workdir)
        progress(f"watch: hub sim created {len(lacking)} database(s) in "
                 f"{time.monotonic() - started:.1f} s")
        await _fill_all(account, lacking, options, progress)
    build_s = time.monotonic() - started if lacking else 0.0
    disk_mb = await _disk_mb(account, offices)
    progress(f"watch: {len(offices)} office database(s) ready, {disk_mb:,.0f} MiB on disk")
    return OfficeData(built=len(lacking), reused=len(offices) - len(lacking),
                      build_s=round(build_s, 1), disk_mb=round(disk_mb, 1))
