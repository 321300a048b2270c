"""Benchmark of the simulator: POST /patients against a ``hub sim`` process, from this one.

The simulator runs as a separate process (service mode, unthrottled, no faults) on a free port
over a throwaway office database, so the load generator and the server do not share an event
loop. The process and the database are removed whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import signal
import socket
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import aiohttp

from odsim.config import DEFAULT_DEVELOPER, SimConfig
from odsim.db import DbParams, connect

READY_TIMEOUT_S = 60.0  # creating Open Dental's tables takes a few seconds
STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True, kw_only=True)
class SimTarget:
    """The throwaway office the benchmark's simulator serves."""

    database: str
    port: int
    customer_key: str
    config_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# The argv that starts `hub sim` with this config file on this port.
SimLauncher = Callable[[Path, int], Sequence[str]]


@dataclass(frozen=True, kw_only=True)
class BenchResult:
    database: str
    concurrency: int
    seconds: float  # measured, from the first request to the last reply
    requests: int
    errors: int
    requests_per_s: float  # successful requests per second
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def as_json(self) -> str:
        return json.dumps(asdict(self))

    def summary(self) -> str:
        return (
            f"POST /patients, {self.concurrency} connections, {self.seconds:.1f} s: "
            f"{self.requests} requests, {self.errors} errors, "
            f"{self.requests_per_s:.1f} requests/s; latency p50 {self.p50_ms:.1f} ms, "
            f"p95 {self.p95_ms:.1f} ms, p99 {self.p99_ms:.1f} ms"
        )


@dataclass
class _Tally:
    ok_latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values; 0 when there are none."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _config_toml(database: str, customer_key: str) -> str:
    dev = DEFAULT_DEVELOPER
    text = "\n".join(
        [
            'mode = "service"',
            "[[developers]]",
            f"key = {json.dumps(dev.key)}",
            f"name = {json.dumps(dev.name)}",
            "[[customers]]",
            f"key = {json.dumps(customer_key)}",
            f"database = {json.dumps(database)}",
            "",
        ]
    )
    SimConfig.model_validate(tomllib.loads(text))  # fail here, not in the child process
    return text


def _auth_headers(target: SimTarget) -> dict[str, str]:
    return {
        "Authorization": f"ODFHIR {DEFAULT_DEVELOPER.key}/{target.customer_key}",
        "Content-Type": "application/json",
    }


async def _post_patients(
    session: aiohttp.ClientSession, url: str, worker: int, deadline: float, tally: _Tally
) -> None:
    loop = asyncio.get_running_loop()
    sequence = 0
    while loop.time() < deadline:
        # Unique names, so Open Dental's duplicate-patient check never fires.
        body = {"LName": f"Bench{uuid.uuid4().hex[:8]}", "FName": f"W{worker}N{sequence}"}
        sequence += 1
        started = time.perf_counter()
        try:
            async with session.post(url, json=body) as response:
                await response.read()
                ok = response.status == 201
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if ok:
            tally.ok_latencies_ms.append((time.perf_counter() - started) * 1000)
        else:
            tally.errors += 1


async def drive_load(target: SimTarget, *, concurrency: int, seconds: float) -> BenchResult:
    """``concurrency`` connections posting patients back to back for ``seconds``."""
    tally = _Tally()
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    url = f"{target.base_url}/api/v1/patients"
    async with aiohttp.ClientSession(
        connector=connector, headers=_auth_headers(target), timeout=timeout
    ) as session:
        started = loop.time()
        deadline = started + seconds
        await asyncio.gather(
            *(_post_patients(session, url, n, deadline, tally) for n in range(concurrency))
        )
        elapsed_s = loop.time() - started
    latencies = sorted(tally.ok_latencies_ms)
    return BenchResult(
        database=target.database,
        concurrency=concurrency,
        seconds=round(elapsed_s, 3),
        requests=len(latencies) + tally.errors,
        errors=tally.errors,
        requests_per_s=round(len(latencies) / elapsed_s, 1),
        p50_ms=round(percentile(latencies, 50), 2),
        p95_ms=round(percentile(latencies, 95), 2),
        p99_ms=round(percentile(latencies, 99), 2),
    )


class SimStartError(Exception):
    """The simulator process exited or did not answer in time."""


async def _wait_ready(process: asyncio.subprocess.Process, target: SimTarget) -> None:
    """Until the simulator answers /admin/faults; raise if it exits or takes too long."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + READY_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        while process.returncode is None and loop.time() < give_up_at:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{target.base_url}/admin/faults") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise SimStartError(f"the simulator did not start (exit code {process.returncode})")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _drop_database(db: DbParams, database: str) -> None:
    """Drop the database and the grants on it (the simulator gives its read-only user one)."""
    conn = await connect(db)
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            await cur.execute("SELECT User, Host FROM mysql.db WHERE Db = %s", (database,))
            for user, host in await cur.fetchall():
                await cur.execute(
                    f"REVOKE ALL PRIVILEGES ON `{database}`.* FROM %s@%s", (user, host)
                )
    finally:
        conn.close()


def _log_tail(path: Path, max_chars: int = 2000) -> str:
    return path.read_text(errors="replace")[-max_chars:]


async def _run(
    argv: Sequence[str],
    target: SimTarget,
    db: DbParams,
    log_file: BinaryIO,
    *,
    concurrency: int,
    seconds: float,
) -> BenchResult:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=log_file, stderr=asyncio.subprocess.STDOUT
        )
        try:
            await _wait_ready(process, target)
            return await drive_load(target, concurrency=concurrency, seconds=seconds)
        finally:
            await _stop(process)
    finally:
        await _drop_database(db, target.database)


def benchmark(
    launch: SimLauncher, db: DbParams, *, concurrency: int = 16, seconds: float = 10.0
) -> BenchResult:
    """Start the simulator over a throwaway database, drive the load, then remove both.

    Blocking, and runs its own event loop: the temporary files are handled outside it.
    """
    with tempfile.TemporaryDirectory(prefix="odsim-bench-") as workdir:
        target = SimTarget(
            database=f"odsim_bench_{uuid.uuid4().hex[:10]}",
            port=_free_port(),
            customer_key=f"bench{uuid.uuid4().hex[:12]}",
            config_path=Path(workdir) / "sim.toml",
        )
        target.config_path.write_text(_config_toml(target.database, target.customer_key))
        log_path = Path(workdir) / "sim.log"
        with log_path.open("wb") as log_file:
            run = _run(
                launch(target.config_path, target.port),
                target,
                db,
                log_file,
                concurrency=concurrency,
                seconds=seconds,
            )
            try:
                return asyncio.run(run)
            except SimStartError as exc:
                raise SimStartError(f"{exc}; its log ends with:\n{_log_tail(log_path)}") from exc
