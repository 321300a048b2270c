"""``hub contracts export|check``: the generated JSON Schemas and AsyncAPI document."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Contract schemas and the AsyncAPI document.")


@app.command("export")
def export() -> None:
    """Write contracts/schemas/*.json and contracts/asyncapi.json from the pydantic models."""
    raise typer.Exit(code=2)


@app.command("check")
def check() -> None:
    """Exit 1, naming the stale files, when the committed artifacts differ from the models."""
    raise typer.Exit(code=2)
