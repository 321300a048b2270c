"""``hub topology``: declare the exchanges and queues for the registry's offices and vendors."""

from __future__ import annotations

import asyncio
import os

import typer

from hub import names
from hub.audit import Operator
from hub.cli.audit_cmd import OperatorOption, operator_for
from hub.errors import HubError
from hub.settings import HubSettings
from hub.topology import declare_registry_topology


def register(app: typer.Typer) -> None:
    @app.command("topology")
    def topology(operator: OperatorOption = None) -> None:
        """Declare the broker topology (idempotent) and hub.dead's retention policy; exit 1 if
        the broker refuses any of it.

        The retention is HUB_DEAD_RETENTION_DAYS; running this again after a change updates the
        policy. The registry's load is audited (hub audit --action registry_load).
        """
        settings = HubSettings()
        raise typer.Exit(code=asyncio.run(_topology(settings, operator_for(operator, settings))))


async def _topology(settings: HubSettings, operator: Operator) -> int:
    try:
        declared = await declare_registry_topology(settings, os.environ, operator)
    except HubError as exc:
        typer.echo(f"hub topology: {exc}", err=True)
        return 1
    typer.echo(
        f"declared: {len(declared.offices)} office queue(s) ({', '.join(declared.offices)}), "
        f"{len(declared.vendors)} outcome queue(s) ({', '.join(declared.vendors)}), "
        f"delivery limit {declared.delivery_limit}; {names.DEAD_LETTER_QUEUE} keeps dead letters "
        f"{settings.dead_retention_days:g} day(s) (policy {names.RETENTION_POLICY})"
    )
    return 0
