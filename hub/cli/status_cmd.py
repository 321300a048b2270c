"""``hub status [--json]``: exits 0, or 1 when a source could not be read (the rest is shown)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from hub.settings import HubSettings
from hub.status import gather, status_json, status_text

Json = Annotated[bool, typer.Option("--json", help="One JSON object instead of the table.")]


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status(as_json: Json = False) -> None:
        """Each office lane (state, queue, in flight, last error, pause), dead letters, outcome
        events waiting for their vendors, paused vendors, as every running writer reports them."""
        raise typer.Exit(code=asyncio.run(_status(HubSettings(), as_json)))


async def _status(settings: HubSettings, as_json: bool) -> int:
    found = await gather(settings)
    typer.echo(status_json(found) if as_json else status_text(found))
    return 1 if found.problems else 0
