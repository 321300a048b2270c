"""hub bench, each scenario once, tiny: the real processes (hub sim, hub worker, the reference
loop) on a throwaway world, the JSON shape and sane values. Never a timing threshold."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import fmean

import aiohttp
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import ApiMode, HubSettings
from lab.bench.config import (
    BenchOptions,
    CeilingOptions,
    FleetOptions,
    Scenario,
    ThrottleReading,
)
from lab.bench.run import run_bench
from lab.bench.stage import staged
from lab.bench.world import BenchWorld


def _quiet(line: str) -> None:
    """Progress lines are for people."""


async def test_fleet_reports_every_load() -> None:
    # Given two offices in remote mode and two offered loads of three seconds each, round trips
    # of 60 ± 20 ms, the throttle counting from replies, and a warm-up of one second before
    # throttle replies are counted apart
    options = BenchOptions(
        settings=HubSettings(), scenarios=(Scenario.FLEET,),
        fleet=FleetOptions(
            offices=2, seconds=3.0, loads=(0.5, 1.5), scrape_interval_s=1.0, rtt_ms=60,
            jitter_ms=20, throttle_reading=ThrottleReading.REPLIES, throttle_warmup_s=1.0,
        ),
    )
    # When the fleet runs, the writer's /metrics scraped every second
    report = await run_bench(options, _quiet)
    # Then each load published, every intent was applied, and the figures are in range
    assert report.fleet is not None
    assert [r.load for r in report.fleet.loads] == [0.5, 1.5]
    for result in report.fleet.loads:
        assert result.published > 0
        assert (result.unaccounted, result.not_applied) == (0, 0)
        assert result.throttle_replies >= 0
        assert result.throttle_replies_per_min is not None
        assert result.throttle_reply_share is not None and 0 <= result.throttle_reply_share <= 1
        assert 0 < result.applied_ratio <= 2
        assert 0 <= result.p50_s <= result.p95_s <= result.p99_s
        assert 0 < result.machine_busy <= 1
        assert result.sim_handling_s is not None and result.sim_handling_s > 0
        assert result.scrapes >= 1 and result.scrape_failures == 0
        assert result.scrape_s is not None and result.scrape_s > 0
    # And at 1.5 times the allowance each key was kept busy, its starts a slot or more apart
    busy = report.fleet.loads[1].slot_gap_s
    assert busy is not None and busy >= 1.0
    assert (report.fleet.rtt_ms, report.fleet.throttle_reading) == (60, "replies")


async def test_fleet_with_two_writers_reports_each_writers_share_and_cost() -> None:
    # Given four offices in remote mode shared by two writers that beat and read the live
    # writers every 0.2 s, idle for a second once settled, then one load at the allowance for
    # four seconds
    options = BenchOptions(
        settings=HubSettings(), scenarios=(Scenario.FLEET,),
        fleet=FleetOptions(
            offices=4, writers=2, idle_s=1.0, seconds=4.0, loads=(1.0,), scrape_interval_s=0
        ),
        writer_env={"HUB_CONTROL__PAUSE_POLL_S": "0.2"},
    )
    # When the fleet runs
    report = await run_bench(options, _quiet)
    # Then every intent was applied, and the load reports both writers: each with half the
    # offices, intents it decided and its CPU per intent and memory
    assert report.fleet is not None and report.fleet.writers == 2
    (result,) = report.fleet.loads
    assert (result.unaccounted, result.not_applied) == (0, 0)
    assert [w.writer for w in result.per_writer] == [1, 2]
    assert len({w.pid for w in result.per_writer}) == 2
    for writer in result.per_writer:
        assert (writer.offices_owned, writer.share) == (2, 0.5)
        assert writer.decided > 0
        assert writer.cpu_ms_per_intent is not None and writer.cpu_ms_per_intent > 0
        assert writer.idle_cpu_share >= 0 and writer.marginal_cpu_ms_per_intent is not None
        assert writer.rss_mb > 0
    # And the ledger's statements per intent come from the writers' own query counts
    assert sum(result.ledger_queries_per_intent.values()) > 0
    # And the ledger's footprint after the run counts every intent published
    intents = next(table for table in report.fleet.ledger if table.table == "intents")
    assert intents.rows == result.published and intents.data_bytes > 0
    # And the JSON and the table carry them
    document = json.loads(report.as_json())["fleet"]
    assert [w["writer"] for w in document["per_writer"]["1.0"]] == [1, 2]
    assert "ledger queries per intent" in report.table()
    assert "bytes per intent" in report.table()


async def test_ceiling_reports_the_hub_beside_the_reference() -> None:
    # Given two offices and forty intents a round (and as many reference messages), two rounds
    options = BenchOptions(
        settings=HubSettings(), scenarios=(Scenario.CEILING,),
        ceiling=CeilingOptions(offices=2, intents=40, rounds=2),
    )
    # When the ceiling runs
    report = await run_bench(options, _quiet)
    # Then both loops finished everything in both rounds, every intent applied (the second
    # round's patients are new ones), with rates, CPU per message and their ratio
    ceiling = report.ceiling
    assert ceiling is not None
    assert (ceiling.unaccounted, ceiling.not_applied, ceiling.reference_errors) == (0, 0, 0)
    assert ceiling.intents == 40 and len(ceiling.rounds) == 2
    assert all(r.hub_per_s > 0 and r.reference_per_s > 0 for r in ceiling.rounds)
    # Rates are means over the rounds, the ratio is of the (unrounded) means.
    assert ceiling.hub_per_s == pytest.approx(fmean(r.hub_per_s for r in ceiling.rounds), abs=0.1)
    assert ceiling.ratio == pytest.approx(ceiling.hub_per_s / ceiling.reference_per_s, abs=0.01)
    assert ceiling.writer_cpu_us_per_intent > 0 and ceiling.reference_cpu_us_per_message > 0
    # And each phase's CPU per intent of every process it makes work, and of the whole machine
    # (a small process may use less than a clock tick in so short a window: zero is allowed)
    neighbours = {"simulator", "mariadbd", "rabbitmq", "bench", "machine"}
    assert set(ceiling.hub_cpu_us_by_process) == {"writer", *neighbours}
    assert set(ceiling.reference_cpu_us_by_process) == {"reference", *neighbours}
    assert all(us >= 0 for us in ceiling.hub_cpu_us_by_process.values())
    assert ceiling.hub_cpu_us_by_process["machine"] > 0
    assert "CPU µs per intent, reference: reference " in report.table()


def test_scale_through_the_command_line_prints_one_json_object(tmp_path: Path) -> None:
    # Given the command with the scale scenario only, for five offices
    argv = ["bench", "-s", "scale", "--scale-offices", "5", "--json", "--keep-in", str(tmp_path)]
    # When it runs
    result = CliRunner().invoke(app, argv)
    # Then it exits 0 with one JSON object: start-up time and memory of the writer
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    scale = document["scale"]
    assert scale["offices"] == 5 and scale["unaccounted"] == 0
    assert scale["startup_s"] > 0
    assert 0 < scale["rss_idle_mb"] <= scale["peak_rss_mb"]
    assert 0 < scale["rss_mb"] <= scale["peak_rss_mb"]
    assert set(document) == {"machine", "scale"}
    # And the writer's log is kept where asked
    assert list((tmp_path / "scale").glob("writer-*.log"))


async def test_the_simulator_counts_its_throttle_replies(tmp_path: Path) -> None:
    # Given a world of one remote-mode office, served by `hub sim`
    world = BenchWorld.new(offices=1, mode=ApiMode.REMOTE)
    settings = HubSettings()
    async with staged(world, settings, tmp_path, _quiet) as stage:
        developer = settings.od_developer_key.get_secret_value()
        headers = {"Authorization": f"ODFHIR {developer}/{world.customer_key(1)}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            # When two requests on its key come within the same second
            for _ in range(2):
                async with session.get(f"{stage.sim_api}/providers") as response:
                    await response.read()
            # Then the second was throttled, and the admin endpoint says so
            async with session.get(f"{stage.sim_root}/admin/throttle") as response:
                counts = await response.json()
    assert (response.status, counts["passed"], counts["rejected"]) == (200, 1, 1)
