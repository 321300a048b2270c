"""A whole ``hub bench`` run: the chosen scenarios one after the other, each on its own world,
in a work directory that holds the generated files and the child processes' logs."""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.bench.ceiling import run_ceiling
from lab.bench.config import BenchOptions, Scenario
from lab.bench.console import run_console_bench
from lab.bench.documents import run_documents
from lab.bench.fleet import run_fleet
from lab.bench.procs import load_average
from lab.bench.report import BenchReport, Machine
from lab.bench.scale import run_scale
from lab.bench.watch import run_watch_bench

Progress = Callable[[str], None]


@contextmanager
def _workdir(keep_in: Path | None) -> Iterator[Path]:
    if keep_in is not None:
        keep_in.mkdir(parents=True, exist_ok=True)
        yield keep_in
        return
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as name:
        yield Path(name)


def _scenario_dir(workdir: Path, scenario: Scenario) -> Path:
    path = workdir / scenario.value
    path.mkdir(exist_ok=True)
    return path


async def run_bench(
    options: BenchOptions, progress: Progress, *, keep_in: Path | None = None
) -> BenchReport:
    """Run the scenarios; ``keep_in`` keeps the files and logs there instead of a temp dir."""
    load_before = load_average()
    writer_env = dict(options.writer_env)
    settings = options.settings
    fleet = ceiling = scale = documents = watch = console = None
    with _workdir(keep_in) as workdir:
        if Scenario.FLEET in options.scenarios:
            where = _scenario_dir(workdir, Scenario.FLEET)
            fleet = await run_fleet(settings, options.fleet, where, progress, writer_env)
        if Scenario.CEILING in options.scenarios:
            where = _scenario_dir(workdir, Scenario.CEILING)
            ceiling = await run_ceiling(settings, options.ceiling, where, progress, writer_env)
        if Scenario.SCALE in options.scenarios:
            where = _scenario_dir(workdir, Scenario.SCALE)
            scale = await run_scale(settings, options.scale, where, progress, writer_env)
        if Scenario.DOCUMENTS in options.scenarios:
            where = _scenario_dir(workdir, Scenario.DOCUMENTS)
            documents = await run_documents(
                settings, options.documents, where, progress, writer_env
            )
        if Scenario.WATCH in options.scenarios:
            where = _scenario_dir(workdir, Scenario.WATCH)
            watch = await run_watch_bench(settings, options.watch, where, progress)
        if Scenario.CONSOLE in options.scenarios:
            where = _scenario_dir(workdir, Scenario.CONSOLE)
            console = await run_console_bench(settings, options.console, where, progress)
    machine = Machine(
        cpus=os.cpu_count() or 0, python=platform.python_version(),
        load_before=round(load_before, 2), load_after=round(load_average(), 2),
        writer_env=writer_env,
    )
    return BenchReport(
        machine=machine, fleet=fleet, ceiling=ceiling, scale=scale, documents=documents,
        watch=watch, console=console,
    )
