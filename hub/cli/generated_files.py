"""The output of ``hub contracts|dashboards|settings export|check``, shared by those groups."""

from __future__ import annotations

from pathlib import Path

import typer

from contracts.generated import Drift


def report_written(group: str, written: list[str], target: Path) -> None:
    typer.echo(f"{group}: wrote {len(written)} files under {target}")


def report_drift(group: str, drift: Drift, target: Path) -> None:
    """Say the files are current, or name each drifted one and exit 1 (CI fails on it)."""
    if drift.up_to_date:
        typer.echo(f"{group}: up to date ({target})")
        return
    for kind, paths in (
        ("stale", drift.stale),
        ("missing", drift.missing),
        ("unexpected", drift.unexpected),
    ):
        for path in paths:
            typer.echo(f"{kind}: {path}")
    typer.echo(f"{group}: out of date; run `hub {group} export`")
    raise typer.Exit(code=1)
