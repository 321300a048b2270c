"""``hub migrate``: bring the ledger database's schema up to date, or list its versions."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from hub.errors import HubError
from hub.ledger.migrations import MIGRATIONS
from hub.ledger.migrator import MigrationState, migrate, migration_status
from hub.settings import HubSettings

Status = Annotated[bool, typer.Option("--status", help="List versions; change nothing.")]


def register(app: typer.Typer) -> None:
    @app.command("migrate")
    def migrate_command(status: Status = False) -> None:
        """Apply the ledger's missing migrations in order (creating the database if needed)."""
        settings = HubSettings().ledger_db
        try:
            if status:
                lines = [_describe(state) for state in asyncio.run(migration_status(settings))]
            else:
                lines = _applied_lines(asyncio.run(migrate(settings)))
        except HubError as exc:
            typer.echo(f"hub migrate: {exc}", err=True)
            raise typer.Exit(code=1) from exc
        typer.echo("\n".join(lines))


def _applied_lines(versions: list[int]) -> list[str]:
    if not versions:
        return ["up to date"]
    names = {migration.version: migration.name for migration in MIGRATIONS}
    return [f"applied {version} {names[version]}" for version in versions]


def _describe(state: MigrationState) -> str:
    when = state.applied_at.isoformat() if state.applied_at else "pending"
    unknown = "  (not known to this build)" if not state.known else ""
    return f"{state.version:>4}  {state.name:<24} {when}{unknown}"
