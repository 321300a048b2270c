"""``hub vendor add|list|remove``: vendors as RabbitMQ users with least-privilege permissions.

``add`` and ``remove`` are audited (``hub audit``), ``--operator`` naming who runs them."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from hub.audit import Operator
from hub.cli.audit_cmd import OperatorOption, operator_for
from hub.cli.pause_cmd import add_pause_commands
from hub.control.model import PauseKind
from hub.errors import HubError
from hub.settings import HubSettings
from hub.vendor_access import (
    add_registry_vendor,
    list_registry_vendors,
    remove_registry_vendor,
)

PasswordFile = Annotated[
    Path | None,
    typer.Option(help="Write a password this command sets to this file (mode 0600), not stdout."),
]
PasswordStdin = Annotated[
    bool, typer.Option(help="Read the password from the first line of stdin; else generate one.")
]
RotatePassword = Annotated[
    bool, typer.Option(help="Give an existing vendor a new password (default: keep it).")
]
DeleteQueue = Annotated[bool, typer.Option(help="Also delete the vendor's outcome queue.")]


def register(app: typer.Typer) -> None:
    vendor = typer.Typer(no_args_is_help=True, help="Vendors as broker users.")
    app.add_typer(vendor, name="vendor")
    add_pause_commands(vendor, PauseKind.VENDOR)

    @vendor.command("add")
    def add(
        name: str,
        password_file: PasswordFile = None,
        password_stdin: PasswordStdin = False,
        rotate_password: RotatePassword = False,
        operator: OperatorOption = None,
    ) -> None:
        """Create or update the registry vendor NAME's broker user, permissions and queue."""
        password = SecretStr(sys.stdin.readline().strip()) if password_stdin else None
        settings = HubSettings()
        who = operator_for(operator, settings)
        adding = _add(settings, who, name, password, rotate_password, password_file)
        raise typer.Exit(code=asyncio.run(adding))

    @vendor.command("list")
    def list_() -> None:
        """Each vendor user, the offices it may publish for, and whether the registry knows it."""
        raise typer.Exit(code=asyncio.run(_list(HubSettings())))

    @vendor.command("remove")
    def remove(
        name: str, delete_queue: DeleteQueue = False, operator: OperatorOption = None
    ) -> None:
        """Delete the vendor NAME's broker user (it can no longer log in)."""
        settings = HubSettings()
        who = operator_for(operator, settings)
        raise typer.Exit(code=asyncio.run(_remove(settings, who, name, delete_queue)))


async def _add(
    settings: HubSettings,
    who: Operator,
    name: str,
    password: SecretStr | None,
    rotate_password: bool,
    file: Path | None,
) -> int:
    try:
        added = await add_registry_vendor(
            settings,
            os.environ,
            name,
            operator=who,
            password=password,
            rotate_password=rotate_password,
            password_file=file,
        )
    except HubError as exc:
        typer.echo(f"hub vendor add: {exc}", err=True)
        return 1
    verb = "created" if added.created else "updated"
    offices = ", ".join(added.offices) or "-"
    if added.paused:
        typer.echo(f"{verb} vendor {added.name}: agreements for {offices}")
        typer.echo(
            f"{added.name} stays paused: the broker refuses its publishes until "
            f"`hub vendor resume {added.name}`"
        )
    else:
        typer.echo(f"{verb} vendor {added.name}: may publish for {offices}")
    if added.password is None:
        typer.echo("password unchanged (--rotate-password sets a new one)")
    elif file is not None:
        typer.echo(f"password written to {file}")
    else:
        typer.echo(f"password (shown once): {added.password.get_secret_value()}")
    return 0


async def _list(settings: HubSettings) -> int:
    try:
        vendors = await list_registry_vendors(settings, os.environ)
    except HubError as exc:
        typer.echo(f"hub vendor list: {exc}", err=True)
        return 1
    for row in vendors:
        user = "yes" if row.has_user else "MISSING (hub vendor add)"
        registry = "yes" if row.in_registry else "NO (not in the registry)"
        offices = ",".join(row.offices) or "-"
        typer.echo(f"{row.name}\toffices={offices}\tuser={user}\tregistry={registry}")
    return 0


async def _remove(settings: HubSettings, who: Operator, name: str, delete_queue: bool) -> int:
    try:
        removed = await remove_registry_vendor(
            settings, name, delete_queue=delete_queue, operator=who
        )
    except HubError as exc:
        typer.echo(f"hub vendor remove: {exc}", err=True)
        return 1
    typer.echo(f"removed vendor user {name}" if removed else f"no vendor user {name}")
    return 0 if removed else 1
