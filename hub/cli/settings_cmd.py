"""``hub settings export|check``: docs/settings.md, generated from the settings models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic_settings import BaseSettings

from adapters.forms import FormsSettings
from hub.cli.generated_files import report_drift, report_written
from hub.settings import HubSettings
from hub.settings_doc import check as check_doc
from hub.settings_doc import repository_dir, write

HELP = "docs/settings.md from the settings models: write it, or check that it is current."
Directory = Annotated[
    Path | None,
    typer.Option("--dir", help="The repository holding docs/ (default: this checkout)."),
]


def documented_models() -> tuple[type[BaseSettings], ...]:
    """Every settings model that reads the environment, in the page's order."""
    # The simulator's, imported only when a command runs (tests/test_boundaries.py).
    from odsim.config import SimDbSettings

    return (HubSettings, FormsSettings, SimDbSettings)


def export(directory: Directory = None) -> None:
    """Write docs/settings.md from the settings models' fields and docstrings."""
    target = directory or repository_dir()
    report_written("settings", write(target, documented_models()), target)


def check(directory: Directory = None) -> None:
    """Exit 1, naming the file, when the committed docs/settings.md differs from the models."""
    target = directory or repository_dir()
    report_drift("settings", check_doc(target, documented_models()), target)


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help=HELP)
    group.command("export")(export)
    group.command("check")(check)
    app.add_typer(group, name="settings")
