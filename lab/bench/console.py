"""``hub bench -s console``: the console's common searches on a big ledger, timed over HTTP.

A throwaway ledger is filled with ``intents`` rows by multi-row ``INSERT … SELECT`` from
MariaDB's sequence engine: vendors, offices and contracts spread evenly, about 2 % rejected (with
their reasons) and 0.5 % dead, received over the last ``days`` days in id order, as a writer
leaves them. The console runs in this process over that ledger (its users file and registry
written beside it); a viewer signs in through the login form, and each search is asked
``repeats`` times, the searches taking turns, each timed from request to the whole page read.
The goal is issue 20's: p95 under 300 ms.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import aiomysql
from aiohttp import web

from hub.console import Console, Role, add_user, make_app
from hub.console.search import Cursor
from hub.settings import ApiMode, ConsoleSettings, HubSettings, MySqlSettings
from lab.bench.config import BenchError, ConsoleOptions
from lab.bench.databases import ledger_database
from lab.bench.files import key_variables, registry_toml
from lab.bench.stats import percentile
from lab.bench.world import BenchWorld

Progress = Callable[[str], None]
GOAL_P95_MS = 300.0
CHUNK_ROWS = 100_000  # rows per INSERT … SELECT
USER = "bench-viewer"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CONTRACTS = (
    "patient.create", "appointment.create", "appointment.confirm", "commlog.create",
    "payment.create", "appointment.reschedule", "patient.update", "document.create",
)
TABLES = ("patient", "appointment", "appointment", "commlog", "payment", "appointment",
          "patient", "document")  # each contract's row
REJECTED_REASONS = ("od_rejected", "idempotency_conflict", "unknown_reference", "od_rejected")
# MOD(), never %: the statement goes through the driver's %(name)s parameters.
FILL = """
INSERT INTO intents (vendor, idempotency_key, payload_hash, contract, contract_version,
    office_id, status, reason, received_at, updated_at, finished_at, expires_at, attempts,
    message_id, correlation_id, od_table, od_primary_key)
SELECT v.vendor, v.idempotency_key, REPEAT('0', 64), v.contract, v.version, v.office_id,
    v.status, v.reason, v.received_at,
    v.received_at + INTERVAL (40 + MOD(seq, 900)) * 1000 MICROSECOND,
    v.received_at + INTERVAL (40 + MOD(seq, 900)) * 1000 MICROSECOND,
    v.received_at + INTERVAL 40 DAY,
    IF(v.status = 'dead', 5, 1), MD5(CONCAT('m', seq)),
    IF(MOD(seq, 3) = 0, MD5(CONCAT('c', seq)), NULL),
    IF(v.status = 'applied', ELT(1 + MOD(seq, 8), {tables}), NULL),
    IF(v.status = 'applied', 1 + seq DIV %(offices)s, NULL)
FROM (
    SELECT seq,
        CONCAT(%(vendor_prefix)s, LPAD(1 + MOD(seq * 7, %(vendors)s), 3, '0')) AS vendor,
        CONCAT('bench-key-', seq) AS idempotency_key,
        ELT(1 + MOD(seq, 8), {contracts}) AS contract, 1 + (MOD(seq, 13) = 0) AS version,
        CONCAT(%(office_prefix)s, LPAD(1 + MOD(seq * 37, %(offices)s), 4, '0')) AS office_id,
        CASE WHEN MOD(seq, 50) = 7 THEN 'rejected' WHEN MOD(seq, 200) = 11 THEN 'dead'
             ELSE 'applied' END AS status,
        CASE WHEN MOD(seq, 50) = 7 THEN ELT(1 + MOD(seq DIV 50, 4), {reasons})
             WHEN MOD(seq, 200) = 11 THEN 'retries_exhausted' END AS reason,
        %(start)s + INTERVAL seq * %(step_us)s MICROSECOND AS received_at
    FROM seq_{first}_to_{last}
) AS v
"""


@dataclass(frozen=True, kw_only=True)
class SearchTiming:
    name: str
    path: str  # the page asked for, as a bookmark holds it
    rows: int  # intents the page listed (1 for an intent's page)
    p50_ms: float
    p95_ms: float
    max_ms: float
    met: bool  # p95 under the goal


@dataclass(frozen=True, kw_only=True)
class ConsoleResult:
    intents: int
    vendors: int
    offices: int
    days: int
    fill_s: float
    repeats: int
    goal_p95_ms: float
    searches: tuple[SearchTiming, ...]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def lines(self) -> list[str]:
        met = sum(search.met for search in self.searches)
        lines = [
            "",
            f"console: {self.intents:,} intents ({self.vendors} vendors, {self.offices} offices, "
            f"{self.days} days) filled in {self.fill_s:.0f} s; each search {self.repeats} times "
            f"over HTTP; p95 under {self.goal_p95_ms:g} ms: {met} of {len(self.searches)}",
            f"  {'search':<22} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  goal",
        ]
        lines += [
            f"  {s.name:<22} {s.rows:>5} {s.p50_ms:>8.1f} {s.p95_ms:>8.1f} {s.max_ms:>8.1f}  "
            f"{'met' if s.met else 'MISSED'}"
            for s in self.searches
        ]
        return lines


async def run_console_bench(
    settings: HubSettings, options: ConsoleOptions, workdir: Path, progress: Progress
) -> ConsoleResult:
    world = BenchWorld.new(offices=options.offices, mode=ApiMode.SERVICE)
    async with ledger_database(settings.ledger_db, world.ledger_database) as ledger:
        started = time.monotonic()
        await _fill(ledger, world, options, progress)
        fill_s = time.monotonic() - started
        searches = await _searches(ledger, world, options)
        password = secrets.token_urlsafe(18)
        console = _console(settings, ledger, world, workdir, password)
        async with _serving(console) as base, _signed_in(base, password) as client:
            progress(f"console: {len(searches)} searches, {options.repeats} times each")
            timings = [await _time(client, base, name, path, options.repeats)
                       for name, path in searches.items()]
    return ConsoleResult(
        intents=options.intents, vendors=options.vendors, offices=options.offices,
        days=options.days, fill_s=round(fill_s, 1), repeats=options.repeats,
        goal_p95_ms=GOAL_P95_MS, searches=tuple(timings),
    )


async def _fill(
    ledger: MySqlSettings, world: BenchWorld, options: ConsoleOptions, progress: Progress
) -> None:
    span = timedelta(days=options.days)
    values = {
        "vendor_prefix": f"bench-{world.run_id}-v", "vendors": options.vendors,
        "office_prefix": f"bench-{world.run_id}-", "offices": options.offices,
        "start": (datetime.now(UTC) - span).replace(tzinfo=None),
        "step_us": max(1, int(span.total_seconds() * 1e6 / options.intents)),
    }
    quoted = {
        "contracts": ", ".join(f"'{c}'" for c in CONTRACTS),
        "tables": ", ".join(f"'{t}'" for t in TABLES),
        "reasons": ", ".join(f"'{r}'" for r in REJECTED_REASONS),
    }
    async with _connection(ledger) as conn, conn.cursor() as cur:
        for first in range(1, options.intents + 1, CHUNK_ROWS):
            last = min(first + CHUNK_ROWS - 1, options.intents)
            await cur.execute(FILL.format(first=first, last=last, **quoted), values)
            progress(f"console: {last:,} of {options.intents:,} intents in the ledger")
        await cur.execute("ANALYZE TABLE intents")
        await cur.fetchall()


async def _searches(
    ledger: MySqlSettings, world: BenchWorld, options: ConsoleOptions
) -> dict[str, str]:
    """Each search's page, its values read from the filled ledger (untimed)."""
    async with _connection(ledger) as conn, conn.cursor(aiomysql.DictCursor) as cur:
        # By position, not by id: INSERT … SELECT leaves gaps between its batches of ids.
        await cur.execute(
            "SELECT vendor, idempotency_key, office_id, message_id FROM intents"
            " ORDER BY id LIMIT 1 OFFSET %s", (options.intents // 2,),
        )
        middle = await cur.fetchone()
        await cur.execute(
            "SELECT vendor, idempotency_key FROM intents WHERE status = 'rejected'"
            " ORDER BY received_at DESC, id DESC LIMIT 1"
        )
        rejected = await cur.fetchone()
        await cur.execute(
            "SELECT received_at, id FROM intents ORDER BY received_at DESC, id DESC"
            " LIMIT 1 OFFSET %s", (options.intents // 2,),
        )
        deep = await cur.fetchone()
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    day = (now - timedelta(days=options.days // 3)).isoformat()
    next_day = (now - timedelta(days=options.days // 3 - 1)).isoformat()
    patient = 1 + options.intents // 2 // options.offices
    queries = {
        "first page": {},
        "by vendor": {"vendor": middle["vendor"]},
        "by office": {"office": middle["office_id"]},
        "status rejected": {"status": "rejected"},
        "by reason": {"reason": "idempotency_conflict"},
        "a day, 10 days ago": {"since": day, "until": next_day},
        "idempotency key": {"vendor": middle["vendor"], "key": middle["idempotency_key"]},
        "message id": {"message": middle["message_id"]},
        f"patient:{patient}": {"row": f"patient:{patient}"},
        "deep page (cursor)": {"after": str(Cursor(at=deep["received_at"], id=deep["id"]))},
    }
    pages = {name: f"/intents?{urlencode(query)}".rstrip("?") for name, query in queries.items()}
    intent = f"{rejected['vendor']}:{rejected['idempotency_key']}"
    pages["intent's page"] = f"/trace?{urlencode({'intent': intent})}"
    return pages


def _console(
    settings: HubSettings, ledger: MySqlSettings, world: BenchWorld, workdir: Path,
    password: str,
) -> Console:
    users = workdir / "console-users.toml"
    add_user(users, USER, Role.VIEWER, password)
    registry = workdir / "registry.toml"
    # The registry's offices are only read, never called: the intent traced has no row.
    registry.write_text(registry_toml(world, "http://127.0.0.1:9/api/v1"), encoding="utf-8")
    bench = settings.model_copy(update={
        "ledger_db": ledger, "registry_path": registry,
        "console": ConsoleSettings(users_file=users),
    })
    return Console.of(bench, key_variables(world))


@asynccontextmanager
async def _serving(console: Console) -> AsyncIterator[str]:
    runner = web.AppRunner(make_app(console), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def _signed_in(base: str, password: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(f"{base}/login") as page:
            token = CSRF.search(await page.text())
        if token is None:
            raise BenchError("the console's login page has no CSRF token")
        form = {"csrf": token.group(1), "user": USER, "password": password}
        async with client.post(f"{base}/login", data=form, allow_redirects=False) as answer:
            if answer.status != 303:
                raise BenchError(f"the bench user could not sign in ({answer.status})")
        yield client


async def _time(
    client: aiohttp.ClientSession, base: str, name: str, path: str, repeats: int
) -> SearchTiming:
    times_ms: list[float] = []
    text = ""
    for _ in range(repeats):
        started = time.perf_counter()
        async with client.get(base + path, allow_redirects=False) as page:
            text = await page.text()
            if page.status != 200:
                raise BenchError(f"{name}: {path} answered {page.status}")
        times_ms.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times_ms)
    p95 = percentile(ordered, 95)
    rows = text.count('<tr class="intent ') if path.startswith("/intents") else 1
    return SearchTiming(
        name=name, path=path, rows=rows, p50_ms=round(percentile(ordered, 50), 1),
        p95_ms=round(p95, 1), max_ms=round(ordered[-1], 1), met=p95 < GOAL_P95_MS,
    )


@asynccontextmanager
async def _connection(account: MySqlSettings) -> AsyncIterator[aiomysql.Connection]:
    conn = await aiomysql.connect(
        host=account.host, port=account.port, user=account.user,
        password=account.password.get_secret_value(), db=account.database, autocommit=True,
    )
    try:
        yield conn
    finally:
        conn.close()
