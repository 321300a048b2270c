"""``hub contracts export|check``: the generated JSON Schemas and AsyncAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from contracts.export import breaks, package_dir, write_all
from contracts.export import check as check_artifacts
from hub.cli.generated_files import report_drift, report_written

app = typer.Typer(no_args_is_help=True, help="Contract schemas and the AsyncAPI document.")

Directory = Annotated[
    Path | None,
    typer.Option("--dir", help="Artifacts directory (default: the installed contracts package)."),
]


@app.command("export")
def export(directory: Directory = None) -> None:
    """Write contracts/schemas/*.json and contracts/asyncapi.json from the pydantic models."""
    target = directory or package_dir()
    if _report_breaks(target):
        raise typer.Exit(code=1)
    report_written("contracts", write_all(target), target)


@app.command("check")
def check(directory: Directory = None) -> None:
    """Exit 1, naming each break, when a model breaks a published version's committed schema;
    exit 1, naming the stale files, when the committed artifacts differ from the models."""
    target = directory or package_dir()
    broken = _report_breaks(target)
    drift = check_artifacts(target)
    if broken and drift.up_to_date:
        raise typer.Exit(code=1)
    report_drift("contracts", drift, target)
    if broken:
        raise typer.Exit(code=1)


def _report_breaks(target: Path) -> bool:
    # A published version only loosens: export refuses to overwrite its schema with a break,
    # so the committed schema stays the promise a check compares against.
    found = breaks(target)
    for each in found:
        typer.echo(f"breaking: {each}")
    if found:
        typer.echo(
            f"contracts: {len(found)} breaking change(s) to published versions; serve the change "
            "as a new major version beside the old one (contracts/README.md, Versions)"
        )
    return bool(found)
