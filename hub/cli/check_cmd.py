"""``hub check [--url URL] [--timeout S]``: exits 0 when the writer is healthy and ready, else 1
(a container health check)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from hub.observability.probe import check_writer, default_url
from hub.settings import HubSettings

Url = Annotated[
    str | None,
    typer.Option(help="The writer's endpoints [default: from HUB_METRICS_HOST and _PORT]."),
]
Timeout = Annotated[float, typer.Option(min=0.1, help="Seconds for both requests together.")]


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(url: Url = None, timeout: Timeout = 5.0) -> None:
        """Ask a running writer's /healthz and /readyz: print "ok", or one line per failing
        check (a stalled event loop, a lane not making progress, the broker, the hub database,
        the registry), and exit 1."""
        target = url or default_url(HubSettings())
        report = asyncio.run(check_writer(target, timeout))
        for line in report.problems or ("ok",):
            typer.echo(line)
        raise typer.Exit(code=0 if report.ok else 1)
