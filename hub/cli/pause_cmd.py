"""``pause`` and ``resume`` under ``hub office`` and ``hub vendor``: thin, over hub/control."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

import typer

from hub.cli.audit_cmd import OperatorOption, operator_for
from hub.control.commands import (
    PauseResult,
    Who,
    pause_office,
    pause_vendor,
    resume_office,
    resume_vendor,
)
from hub.control.model import PauseKind
from hub.errors import HubError
from hub.settings import HubSettings

Reason = Annotated[
    str | None, typer.Option(help="Why, for the other operators (hub status shows it).")
]
Command = Callable[[HubSettings, Mapping[str, str], str, Who], Awaitable[PauseResult]]

COMMANDS: Mapping[PauseKind, tuple[Command, Command]] = {
    PauseKind.OFFICE: (pause_office, resume_office),
    PauseKind.VENDOR: (pause_vendor, resume_vendor),
}
HELP = {
    PauseKind.OFFICE: (
        "Pause office ID's lane on every running writer within seconds: the message in flight "
        "finishes, the rest wait in its queue. Nothing is lost.",
        "Resume office ID's lane: held and queued messages are applied in order.",
    ),
    PauseKind.VENDOR: (
        "Pause vendor NAME: the broker refuses its new publishes (its publisher keeps them) and "
        "writers hold its queued messages, going on with other vendors'. Nothing is lost.",
        "Resume vendor NAME: the broker accepts its publishes again, held messages are applied.",
    ),
}


def add_pause_commands(group: typer.Typer, kind: PauseKind) -> None:
    pause, resume = COMMANDS[kind]
    pause_help, resume_help = HELP[kind]

    @group.command("pause", help=pause_help)
    def pause_(name: str, reason: Reason = None, operator: OperatorOption = None) -> None:
        settings = HubSettings()
        who = _who(settings, operator, reason)
        raise typer.Exit(code=asyncio.run(_run(settings, pause, name, who, "pause")))

    @group.command("resume", help=resume_help)
    def resume_(name: str, reason: Reason = None, operator: OperatorOption = None) -> None:
        settings = HubSettings()
        who = _who(settings, operator, reason)
        raise typer.Exit(code=asyncio.run(_run(settings, resume, name, who, "resume")))


def _who(settings: HubSettings, operator: str | None, reason: str | None) -> Who:
    """The operator as hub status shows them and the audit trail records them."""
    acting = operator_for(operator, settings)
    return Who(operator=acting.shown, reason=reason, os_user=acting.os_user)


async def _run(settings: HubSettings, command: Command, name: str, who: Who, verb: str) -> int:
    try:
        result = await command(settings, os.environ, name, who)
    except HubError as exc:
        typer.echo(f"hub {verb}: {exc}", err=True)
        return 1
    typer.echo(_said(result, verb))
    return 0


def _said(result: PauseResult, verb: str) -> str:
    what = f"{result.kind.value} {result.name}"
    done = f"{verb}d {what}" if result.changed else f"{what} was already {verb}d"
    if result.kind is PauseKind.VENDOR:
        if not result.broker:
            done += " (it has no broker user: nothing to refuse or accept at the broker)"
        elif verb == "pause":
            done += f"; the broker refuses its publishes ({result.connections_closed} "
            done += "connection(s) closed)"
        else:
            done += "; the broker accepts its publishes again"
    return done
