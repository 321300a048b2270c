"""``hub office pause|resume ID``."""

from __future__ import annotations

import typer

from hub.cli.pause_cmd import add_pause_commands
from hub.control.model import PauseKind


def register(app: typer.Typer) -> None:
    office = typer.Typer(no_args_is_help=True, help="Office lanes on the running writers.")
    app.add_typer(office, name="office")
    add_pause_commands(office, PauseKind.OFFICE)
