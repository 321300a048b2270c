"""``hub dlq expired``: the dead letters that outlived hub.dead's retention, as recorded.

Exit codes: 0 listed (also when nothing matches); 1 the record could not be read; 2 wrong usage.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from hub.dlq import parse_moment
from hub.dlq.constants import DEFAULT_LIMIT
from hub.dlq.expiries import ExpiryError, ExpiryFilter, mysql_expiries
from hub.dlq.views import expiries_json, expiries_table
from hub.settings import HubSettings

Vendor = Annotated[str | None, typer.Option(help="Only this vendor's.", show_default=False)]
Office = Annotated[str | None, typer.Option(help="Only this office's.", show_default=False)]
Since = Annotated[
    str | None,
    typer.Option(
        help="Expired at or after: ISO 8601 (UTC unless it has an offset), or 30m, 2h, 7d ago.",
        show_default=False,
    ),
]
Until = Annotated[str | None, typer.Option(help="Expired before (as --since).", show_default=False)]
MessageId = Annotated[
    str | None,
    typer.Option("--id", help="Only this message id or idempotency key.", show_default=False),
]
Limit = Annotated[int, typer.Option(min=1, help="The newest this many (shown oldest first).")]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object.")]


def register(dlq: typer.Typer) -> None:
    @dlq.command("expired")
    def expired(
        vendor: Vendor = None, office: Office = None, since: Since = None, until: Until = None,
        message_id: MessageId = None, limit: Limit = DEFAULT_LIMIT, as_json: AsJson = False,
    ) -> None:
        """List the dead letters that expired from hub.dead (HUB_DEAD_RETENTION_DAYS).

        Each was recorded by intent id in the hub database (dead_letter_expiries) before its
        body was dropped: who sent it, which office and contract, why it was dead-lettered,
        when, and when it expired. Never a body.
        """
        now = datetime.now(UTC)
        try:
            wanted = ExpiryFilter(
                vendor=vendor, office=office, message_id=message_id, limit=limit,
                since=None if since is None else parse_moment(since, now),
                until=None if until is None else parse_moment(until, now),
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        raise typer.Exit(code=asyncio.run(_expired(HubSettings(), wanted, as_json)))


async def _expired(settings: HubSettings, wanted: ExpiryFilter, as_json: bool) -> int:
    try:
        async with mysql_expiries(settings.ledger_db) as store:
            rows = await store.rows(wanted)
    except ExpiryError as exc:
        typer.echo(f"hub dlq expired: {exc}", err=True)
        return 1
    typer.echo(expiries_json(rows) if as_json else expiries_table(rows))
    return 0
