"""A real Prometheus (Debian's package) for one test: a temp config and data dir, a free port,
stopped and removed afterwards. A missing binary fails the test, it never skips it."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

STARTUP_GUARD_S = 20.0
STOP_GUARD_S = 10.0
POLL_S = 0.1


@dataclass(frozen=True, kw_only=True)
class ScrapeJob:
    name: str
    target: str  # host:port
    metrics_path: str = "/metrics"


class PrometheusApi:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant query's result series (empty: no series)."""
        reply = await self._http.get("/api/v1/query", params={"query": expr})
        body = reply.json()
        assert reply.status_code == 200 and body["status"] == "success", (expr, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    async def healthy_jobs(self) -> set[str]:
        """The jobs whose every target was scraped successfully last time."""
        reply = await self._http.get("/api/v1/targets", params={"state": "active"})
        targets = reply.json()["data"]["activeTargets"]
        jobs = {t["labels"]["job"] for t in targets}
        return {job for job in jobs if all(
            t["health"] == "up" for t in targets if t["labels"]["job"] == job
        )}


def _binary() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(
            "prometheus is not installed: scripts/ensure-services.sh installs Debian's prometheus "
            "package (apt-get install -y --no-install-recommends prometheus)"
        )
    return binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(jobs: Sequence[ScrapeJob], rule_files: Sequence[Path], interval_s: float) -> str:
    interval = f"{int(interval_s * 1000)}ms"
    return yaml.safe_dump({
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "scrape_timeout": interval},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {"job_name": job.name, "metrics_path": job.metrics_path,
             "static_configs": [{"targets": [job.target]}]}
            for job in jobs
        ],
    })


@asynccontextmanager
async def running_prometheus(
    directory: Path, jobs: Sequence[ScrapeJob], *, rule_files: Sequence[Path] = (),
    interval_s: float = 1.0,
) -> AsyncIterator[PrometheusApi]:
    binary = _binary()
    config = directory / "prometheus.yml"
    config.write_text(_config(jobs, rule_files, interval_s), encoding="utf-8")
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        binary, f"--config.file={config}", f"--storage.tsdb.path={directory / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    # Read all along, so a chatty Prometheus never blocks on a full pipe.
    said = asyncio.create_task(process.stderr.read())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await _until_ready(http, process, said)
            yield PrometheusApi(http)
    finally:
        await _stop(process)
        await said
        shutil.rmtree(directory / "data", ignore_errors=True)


async def _until_ready(
    http: httpx.AsyncClient, process: asyncio.subprocess.Process, said: asyncio.Task[bytes]
) -> None:
    async with asyncio.timeout(STARTUP_GUARD_S):  # a guard, not a timing
        while True:
            if process.returncode is not None:
                pytest.fail(f"prometheus exited at start: {(await said).decode(errors='replace')}")
            try:
                if (await http.get("/-/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(POLL_S)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Stop this test's own Prometheus (by its process, never by name)."""
    if process.returncode is None:
        process.terminate()
    try:
        async with asyncio.timeout(STOP_GUARD_S):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
