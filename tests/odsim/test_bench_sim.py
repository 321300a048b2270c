"""``hub bench-sim``, run once briefly against a real ``hub sim`` child process."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from hub.cli import app
from odsim.db import DbParams, connect


async def _database_exists(name: str) -> bool:
    conn = await connect(DbParams())
    try:
        async with conn.cursor() as cur:
            await cur.execute("SHOW DATABASES LIKE %s", (name,))
            return await cur.fetchone() is not None
    finally:
        conn.close()


async def test_bench_sim_prints_parsable_json_and_cleans_up() -> None:
    # Given the hub command line
    runner = CliRunner()

    # When the simulator is benchmarked for one second with four connections (in a thread:
    # the command runs its own event loop)
    args = ["bench-sim", "--seconds", "1", "--concurrency", "4", "--json"]
    result = await asyncio.to_thread(runner.invoke, app, args)

    # Then it prints one JSON object showing patients were created, and its database is gone
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["requests_per_s"] > 0
    assert report["errors"] == 0
    assert report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]
    assert not await _database_exists(report["database"])
