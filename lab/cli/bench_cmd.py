"""``hub bench``: the hub at the limits (fleet, ceiling, scale; documents, watch and console when
named), as a table or JSON.

The simulator and the writer run as ``hub sim`` and ``hub worker`` child processes (lab/bench),
so this command never imports the simulator.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from hub.errors import HubError
from hub.settings import HubSettings
from lab.bench import config as c
from lab.bench.run import run_bench

ScenarioOpt = Annotated[
    list[c.Scenario] | None,
    typer.Option(
        "--scenario", "-s",
        help="Run only these (repeatable); default: fleet, ceiling and scale. documents runs "
        "only when named: it needs the broker's max_message_size at the hub's ceiling "
        "(scripts/setup-broker.sh). watch runs only when named: it builds (or keeps) an Open "
        "Dental database per office, about 19 GiB at its defaults. console runs only when named: "
        "it fills a throwaway ledger with a million intents and times the console's searches.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]
Offices = Annotated[int, typer.Option(min=1, max=9999, help="fleet: offices (customer keys).")]
Writers = Annotated[int, typer.Option(
    min=1, max=c.MAX_FLEET_WRITERS, help="fleet: hub worker processes sharing the offices, "
    "started one after the other; the load starts once the offices have settled over them.",
)]
Seconds = Annotated[float, typer.Option(min=1.0, help="fleet: publishing seconds per load.")]
Loads = Annotated[str, typer.Option(help="fleet: offered loads, times the allowance.")]
ScrapeEvery = Annotated[float, typer.Option(
    min=0.0, help="fleet: scrape the writer's /metrics every this many seconds (0: never).",
)]
RttMs = Annotated[float, typer.Option(
    min=0.0, help="fleet: the simulated network's mean round trip, in ms (beside the "
    "simulator's own running time).",
)]
JitterMs = Annotated[float, typer.Option(
    min=0.0, help="fleet: round trips spread ± this many ms around --rtt-ms (each leg "
    "(rtt - jitter) / 2 plus uniform 0..jitter).",
)]
ReadingOpt = Annotated[c.ThrottleReading, typer.Option(
    help="fleet: where the simulator's throttle counts a slot from: the previous request's "
    "start or its reply.",
)]
WarmupS = Annotated[float, typer.Option(
    min=0.0, help="fleet: seconds of each load before throttle replies are counted apart.",
)]
CeilingOffices = Annotated[int, typer.Option(min=1, max=9999, help="ceiling: offices.")]
CeilingIntents = Annotated[
    int, typer.Option(min=1, help="ceiling: intents (and messages) per round.")
]
CeilingRounds = Annotated[
    int, typer.Option(min=1, max=9, help="ceiling: rounds of hub and reference, alternating.")
]
Profile = Annotated[
    bool, typer.Option("--profile", help="ceiling: the writer's CPU per step (needs py-spy).")
]
ScaleOffices = Annotated[int, typer.Option(min=1, max=9999, help="scale: offices configured.")]
DocumentOffices = Annotated[int, typer.Option(min=1, max=9999, help="documents: offices.")]
Documents = Annotated[int, typer.Option(min=1, help="documents: uploads, all queued at once.")]
DocumentMb = Annotated[float, typer.Option(
    min=0.001, max=17.8, help="documents: each upload's body, in MB.",
)]
WatchOffices = Annotated[int, typer.Option(
    min=1, max=c.MAX_WATCH_OFFICES, help="watch: offices, each its own Open Dental database.",
)]
WatchPatients = Annotated[int, typer.Option(min=1, help="watch: patients per office.")]
WatchAppointments = Annotated[int, typer.Option(min=1, help="watch: appointments per office.")]
WatchSeconds = Annotated[float, typer.Option(
    min=1.0, help="watch: seconds the front desks make changes for (the measured window).",
)]
WatchChanges = Annotated[float, typer.Option(
    min=0.01, help="watch: changes per minute per office (moves, edits, calls logged).",
)]
WatchFresh = Annotated[bool, typer.Option(
    "--watch-fresh", help="watch: rebuild the office databases even if they hold the rows.",
)]
WatchEnv = Annotated[
    list[str] | None,
    typer.Option("--watch-env", help="NAME=VALUE for the hub watch process (repeatable)."),
]
WriterEnv = Annotated[
    list[str] | None,
    typer.Option("--writer-env", help="NAME=VALUE for the writer process (repeatable)."),
]
ConsoleIntents = Annotated[int, typer.Option(
    min=1, help="console: intents the throwaway ledger is filled with.",
)]
ConsoleRepeats = Annotated[int, typer.Option(min=1, help="console: times each search is asked.")]
DEFAULT_LOADS = ",".join(f"{load:g}" for load in c.DEFAULT_FLEET_LOADS)
KeepIn = Annotated[
    Path | None, typer.Option(help="Keep the generated files and the processes' logs here.")
]


def _progress(line: str) -> None:
    # stderr: with --json, stdout holds the one JSON object only.
    print(f"hub bench: {line}", file=sys.stderr, flush=True)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = dict(value.partition("=")[::2] for value in values)
    if any(not name.startswith("HUB_") for name in pairs):
        raise typer.BadParameter(f"{option} takes HUB_NAME=VALUE")
    return pairs


def register(app: typer.Typer) -> None:
    @app.command("bench")
    def bench(
        scenario: ScenarioOpt = None,
        as_json: AsJson = False,
        offices: Offices = c.DEFAULT_FLEET_OFFICES,
        writers: Writers = 1,
        seconds: Seconds = c.DEFAULT_FLEET_SECONDS,
        loads: Loads = DEFAULT_LOADS,
        scrape_every: ScrapeEvery = c.DEFAULT_SCRAPE_INTERVAL_S,
        rtt_ms: RttMs = 0.0,
        jitter_ms: JitterMs = 0.0,
        throttle_reading: ReadingOpt = c.ThrottleReading.STARTS,
        throttle_warmup_s: WarmupS = c.DEFAULT_THROTTLE_WARMUP_S,
        ceiling_offices: CeilingOffices = c.DEFAULT_CEILING_OFFICES,
        ceiling_intents: CeilingIntents = c.DEFAULT_CEILING_INTENTS,
        ceiling_rounds: CeilingRounds = c.DEFAULT_CEILING_ROUNDS,
        profile: Profile = False,
        scale_offices: ScaleOffices = c.DEFAULT_SCALE_OFFICES,
        document_offices: DocumentOffices = c.DEFAULT_DOCUMENT_OFFICES,
        documents: Documents = c.DEFAULT_DOCUMENTS,
        document_mb: DocumentMb = c.DEFAULT_DOCUMENT_MB,
        watch_offices: WatchOffices = c.DEFAULT_WATCH_OFFICES,
        watch_patients: WatchPatients = c.DEFAULT_WATCH_PATIENTS,
        watch_appointments: WatchAppointments = c.DEFAULT_WATCH_APPOINTMENTS,
        watch_seconds: WatchSeconds = c.DEFAULT_WATCH_SECONDS,
        watch_changes_per_min: WatchChanges = c.DEFAULT_WATCH_CHANGES_PER_MIN,
        watch_fresh: WatchFresh = False,
        watch_env: WatchEnv = None,
        writer_env: WriterEnv = None,
        console_intents: ConsoleIntents = c.DEFAULT_CONSOLE_INTENTS,
        console_repeats: ConsoleRepeats = c.DEFAULT_CONSOLE_REPEATS,
        keep_in: KeepIn = None,
    ) -> None:
        """Measure the hub at the limits: a remote-mode fleet, the service-mode ceiling beside a
        bare reference loop, the writer's memory and start-up with 1,000 offices, and (when
        named) its peak memory with 50 document uploads of 15 MB queued across 10 offices, (when
        named) the read load hub watch puts on 100 offices' Open Dental databases, and (when
        named) the console's search pages on a ledger of a million intents."""
        try:
            options = c.BenchOptions(
                settings=HubSettings(),
                scenarios=tuple(scenario or c.DEFAULT_SCENARIOS),
                fleet=c.FleetOptions(
                    offices=offices, writers=writers, seconds=seconds,
                    loads=tuple(float(load) for load in loads.split(",")),
                    scrape_interval_s=scrape_every, rtt_ms=rtt_ms, jitter_ms=jitter_ms,
                    throttle_reading=throttle_reading, throttle_warmup_s=throttle_warmup_s,
                ),
                ceiling=c.CeilingOptions(
                    offices=ceiling_offices, intents=ceiling_intents, rounds=ceiling_rounds,
                    profile=profile,
                ),
                scale=c.ScaleOptions(offices=scale_offices),
                documents=c.DocumentsOptions(
                    offices=document_offices, documents=documents, body_mb=document_mb
                ),
                watch=c.WatchOptions(
                    offices=watch_offices, patients=watch_patients,
                    appointments=watch_appointments, seconds=watch_seconds,
                    changes_per_min=watch_changes_per_min, fresh=watch_fresh,
                    env=_pairs(watch_env or [], "--watch-env"),
                ),
                console=c.ConsoleOptions(intents=console_intents, repeats=console_repeats),
                writer_env=_pairs(writer_env or [], "--writer-env"),
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        raise typer.Exit(code=asyncio.run(_bench(options, as_json, keep_in)))


async def _bench(options: c.BenchOptions, as_json: bool, keep_in: Path | None) -> int:
    try:
        report = await run_bench(options, _progress, keep_in=keep_in)
    except HubError as exc:
        typer.echo(f"hub bench: {exc}", err=True)
        return 1
    typer.echo(report.as_json() if as_json else report.table())
    return 0
