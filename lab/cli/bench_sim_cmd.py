"""``hub bench-sim``: how fast the Open Dental simulator takes POST /patients.

It starts ``hub sim`` as a child process (service mode, a throwaway database, a free port) and
drives it from this process. ``odsim`` is imported inside the command only, so the writer,
ledger and client never load it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

# The same interpreter and the same `hub` app, whether or not the `hub` script is on PATH.
_HUB = (sys.executable, "-c", "from hub.cli import main; main()")


def _sim_argv(config_path: Path, port: int) -> list[str]:
    return [*_HUB, "sim", "--config", str(config_path), "--port", str(port)]


def register(app: typer.Typer) -> None:
    @app.command("bench-sim")
    def bench_sim(
        concurrency: int = typer.Option(16, "--concurrency", "-c", min=1, help="Connections."),
        seconds: float = typer.Option(10.0, "--seconds", "-t", min=0.1, help="Duration."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Benchmark the Open Dental simulator with POST /patients."""
        from odsim.bench import SimStartError, benchmark
        from odsim.config import SimDbSettings

        try:
            result = benchmark(
                _sim_argv, SimDbSettings().params(), concurrency=concurrency, seconds=seconds
            )
        except SimStartError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=1) from exc
        typer.echo(result.as_json() if as_json else result.summary())
