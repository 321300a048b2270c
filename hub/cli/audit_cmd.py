"""``hub audit``: the operators' audit trail, filtered; and the ``--operator`` option every
audited command shares.

Exit codes: 0 listed (also when nothing matches); 1 the trail could not be read; 2 wrong usage.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from hub.audit import (
    AuditAction,
    AuditError,
    AuditFilter,
    AuditResult,
    Operator,
    mysql_trail,
    operator_of,
)
from hub.audit.model import DEFAULT_LIMIT
from hub.audit.view import entries_json, entries_table
from hub.dlq import parse_moment
from hub.settings import HubSettings

OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Your name for the audit trail, beside the OS user (default: HUB_OPERATOR, else "
        "the OS user).",
        show_default=False,
    ),
]
Since = Annotated[
    str | None,
    typer.Option(
        help="At or after: ISO 8601 (UTC unless it has an offset), or 30m, 2h, 7d ago.",
        show_default=False,
    ),
]
Until = Annotated[str | None, typer.Option(help="Before (as --since).", show_default=False)]
Action = Annotated[AuditAction | None, typer.Option(help="Only this action.", show_default=False)]
OperatorFilter = Annotated[
    str | None,
    typer.Option("--operator", help="Only this operator (name or OS user).", show_default=False),
]
Target = Annotated[
    str | None,
    typer.Option(help="Only this target: a vendor, an office, a queue, a registry file.",
                 show_default=False),
]
Result = Annotated[AuditResult | None, typer.Option(help="Only this result.", show_default=False)]
Limit = Annotated[int, typer.Option(min=1, help="The newest this many rows (shown oldest first).")]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object.")]


def operator_for(given: str | None, settings: HubSettings) -> Operator:
    """Who runs an audited command: ``--operator``, else ``HUB_OPERATOR``, else the OS user."""
    return operator_of(given, settings.operator)


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        since: Since = None, until: Until = None, action: Action = None,
        operator: OperatorFilter = None, target: Target = None, result: Result = None,
        limit: Limit = DEFAULT_LIMIT, as_json: AsJson = False,
    ) -> None:
        """Every operator action, each written before it took effect, and how it ended.

        Vendor add, remove and password; office and vendor pause and resume; dead-letter replay
        and purge; registry loads (with the file's SHA-256). Result pending: the action began
        and no result was recorded (the command died, or the row predates the trail).
        """
        now = datetime.now(UTC)
        try:
            wanted = AuditFilter(
                since=None if since is None else parse_moment(since, now),
                until=None if until is None else parse_moment(until, now),
                action=None if action is None else action.value, operator=operator,
                target=target, result=result, limit=limit,
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        raise typer.Exit(code=asyncio.run(_audit(HubSettings(), wanted, as_json)))


async def _audit(settings: HubSettings, wanted: AuditFilter, as_json: bool) -> int:
    try:
        async with mysql_trail(settings.ledger_db) as trail:
            rows = await trail.entries(wanted)
    except AuditError as exc:
        typer.echo(f"hub audit: {exc}", err=True)
        return 1
    typer.echo(entries_json(rows) if as_json else entries_table(rows))
    return 0
