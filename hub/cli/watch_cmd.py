"""``hub watch``: follow every office's changes and attribute each to its door, until SIGTERM or
SIGINT. ``hub changes``: what it found for one office.

Exit codes: 0 done (no change is an answer too); 1 the registry or the hub database cannot be
read, or the office is not in the registry; 2 wrong usage (a bad --since or --door).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from hub.errors import HubError
from hub.observability.logs import configure_logging
from hub.registry import load_hub_registry
from hub.settings import HubSettings
from hub.watch import Door, run_watch
from hub.watch.run import read_changes
from hub.watch.views import changes_json, changes_text

log = logging.getLogger("hub.watch")

DEFAULT_SINCE = timedelta(hours=24)
DOORS = ", ".join(door.value for door in Door)

OfficeOption = Annotated[
    str, typer.Option("--office", help="The office, as the registry names it.")
]
Since = Annotated[
    str | None,
    typer.Option(
        "--since", metavar="TIME",
        help="ISO 8601, e.g. 2025-05-01T14:00:00Z or 2025-05-01 (no offset: UTC). "
        "Default: 24 hours ago.", show_default=False,
    ),
]
DoorOption = Annotated[
    str | None,
    typer.Option("--door", help=f"Only changes through this door: {DOORS}.", show_default=False),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="A JSON array (shape: hub/watch/views.py).")
]


def parse_since(text: str | None, now: datetime) -> datetime:
    """``--since`` as an aware UTC time; a time without offset is UTC."""
    if text is None:
        return now - DEFAULT_SINCE
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 time (e.g. 2025-05-01T14:00:00Z)", param_hint="--since"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_door(text: str | None) -> Door | None:
    if text is None:
        return None
    try:
        return Door(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a door: choose one of {DOORS}", param_hint="--door"
        ) from None


def register(app: typer.Typer) -> None:
    @app.command("watch")
    def watch() -> None:
        """Follow every office's changes (scans and Open Dental's events) and attribute each to
        its door: the hub, an Open Dental user, another API developer, or unexplained."""
        settings = HubSettings()
        configure_logging(settings.log_format)
        raise typer.Exit(code=asyncio.run(_watch(settings)))

    @app.command("changes")
    def changes(
        office: OfficeOption, since: Since = None, door: DoorOption = None, as_json: AsJson = False
    ) -> None:
        """The changes hub watch attributed for an office, oldest first, with their door."""
        moment = parse_since(since, datetime.now(UTC))
        chosen = parse_door(door)
        raise typer.Exit(code=asyncio.run(_changes(HubSettings(), office, moment, chosen, as_json)))


async def _watch(settings: HubSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run_watch(settings, os.environ, stop)
    except HubError as exc:
        log.error("hub watch stopped: %s", exc)
        return 1
    return 0


async def _changes(
    settings: HubSettings, office: str, since: datetime, door: Door | None, as_json: bool
) -> int:
    try:
        registry = await asyncio.to_thread(load_hub_registry, settings, os.environ)
        office_id = registry.office(office).id
        found = await read_changes(settings, office_id, since, door)
    except HubError as exc:
        typer.echo(f"hub changes: {exc}", err=True)
        return 1
    if as_json:
        typer.echo(changes_json(found))
    else:
        which = "" if door is None else f" through door {door.value}"
        title = f"Changes in office {office_id}{which} since {since.isoformat()} (oldest first)"
        typer.echo(changes_text(found, title))
    return 0
