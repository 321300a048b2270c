"""``hub console [--host H] [--port P]`` serves the operator console until Ctrl-C;
``hub console user add NAME --role R [--password-file F | --proxy-only]`` writes its users file.

A password is never taken from the command line (it would sit in the shell's history and the
process list): from a file's first line, or asked at the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer

from hub.console import Console, Role, UsersError, add_user, load_users, serve
from hub.observability.logs import configure_logging
from hub.settings import HubSettings

Host = Annotated[
    str | None, typer.Option(help="Listen address (default: HUB_CONSOLE__HOST, 127.0.0.1).")
]
Port = Annotated[
    int | None, typer.Option(help="Listen port (default: HUB_CONSOLE__PORT, 8470).")
]
RoleOption = Annotated[
    str, typer.Option("--role", help="viewer (reads), operator (replay, pause, reveal), admin.")
]
PasswordFile = Annotated[
    Path | None,
    typer.Option(help="Read the password from this file's first line (else asked, not echoed)."),
]
ProxyOnly = Annotated[
    bool, typer.Option(help="No password: the user signs in through the trusted proxy only.")
]


def register(app: typer.Typer) -> None:
    console = typer.Typer(help="The operator console: intents, traces, dead letters, lanes.")
    app.add_typer(console, name="console")

    @console.callback(invoke_without_command=True)
    def run(ctx: typer.Context, host: Host = None, port: Port = None) -> None:
        """Serve the console (http://127.0.0.1:8470 by default) until Ctrl-C."""
        if ctx.invoked_subcommand is not None:
            return
        settings = HubSettings()
        configure_logging(settings.log_format)  # failed logins are logged, as the writer logs
        where = host or settings.console.host
        on = settings.console.port if port is None else port
        typer.echo(f"hub console on http://{where}:{on} (users: {settings.console.users_file})")
        if not load_users(settings.console.users_file):
            typer.echo("no users yet: hub console user add NAME --role admin", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(Console.of(settings, dict(os.environ)), where, on))

    user = typer.Typer(no_args_is_help=True, help="The console's users file.")
    console.add_typer(user, name="user")

    @user.command("add")
    def add(
        name: str, role: RoleOption, password_file: PasswordFile = None,
        proxy_only: ProxyOnly = False,
    ) -> None:
        """Add a user, or change an existing one's role and password (argon2 hash only)."""
        settings = HubSettings()
        try:
            password = None if proxy_only else _password(password_file)
            new = add_user(settings.console.users_file, name, Role.parse(role), password)
        except UsersError as exc:
            typer.echo(f"hub console user add: {exc}", err=True)
            raise typer.Exit(code=1) from exc
        done = "added" if new else "changed"
        typer.echo(f"{done} {name} ({role}) in {settings.console.users_file}")


def _password(path: Path | None) -> str:
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise UsersError(f"{path}: no password on its first line") from exc
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
