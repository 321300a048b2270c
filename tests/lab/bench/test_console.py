"""hub bench -s console, tiny: a ledger of 2,000 intents, every search asked twice over HTTP
through the console's login, the JSON shape and sane values. Never a timing threshold."""

from __future__ import annotations

import json

from hub.settings import HubSettings
from lab.bench.config import BenchOptions, ConsoleOptions, Scenario
from lab.bench.run import run_bench

SEARCHES_WITH_ROWS = {
    "first page", "by vendor", "by office", "status rejected", "by reason",
    "a day, 10 days ago", "idempotency key", "message id", "deep page (cursor)",
}


async def test_the_console_scenario_times_every_search_on_a_filled_ledger() -> None:
    # Given a ledger of 2,000 intents over 20 vendors and 200 offices
    options = BenchOptions(
        settings=HubSettings(), scenarios=(Scenario.CONSOLE,),
        console=ConsoleOptions(intents=2_000, repeats=2),
    )
    lines: list[str] = []
    # When the scenario runs
    report = await run_bench(options, lines.append)
    # Then every search answered, each with its figures, and those that should list intents did
    console = report.console
    assert console is not None and console.intents == 2_000
    names = [search.name for search in console.searches]
    assert set(names) >= SEARCHES_WITH_ROWS | {"intent's page"} and len(names) == 11
    for search in console.searches:
        assert 0 < search.p50_ms <= search.p95_ms <= search.max_ms, search
        assert search.met == (search.p95_ms < console.goal_p95_ms)
        if search.name in SEARCHES_WITH_ROWS:
            assert search.rows > 0, search
    # And the deep page is found by a cursor in its URL, the key search finds exactly its intent
    by_name = {search.name: search for search in console.searches}
    assert "after=" in by_name["deep page (cursor)"].path
    assert by_name["idempotency key"].rows == 1
    # And the JSON and the table carry it, the progress went to the caller
    assert json.loads(report.as_json())["console"]["searches"][0]["name"] == "first page"
    assert "console: 2,000 intents" in report.table()
    assert any("2,000 of 2,000 intents" in line for line in lines)
