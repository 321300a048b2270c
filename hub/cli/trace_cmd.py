"""``hub trace``: an intent's whole story, or every intent that touched an Open Dental row.

Exit codes: 0 traced (a row no intent touched is an answer too); 1 the intent is unknown, the
target does not parse, or the registry or ledger cannot be read; 2 wrong usage.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated

import typer

from hub.errors import HubError
from hub.settings import HubSettings
from hub.trace import (
    intent_json,
    intent_text,
    parse_intent_target,
    parse_row_target,
    row_json,
    row_text,
    run_intent_trace,
    run_row_trace,
)
from hub.watch.run import read_row_changes
from hub.watch.views import change_dict, changes_text

Target = Annotated[
    str | None,
    typer.Argument(
        metavar="VENDOR:IDEMPOTENCY_KEY",
        help="The intent to trace; the key may contain ':' (split on the first one).",
        show_default=False,
    ),
]
Od = Annotated[
    str | None,
    typer.Option(
        "--od", metavar="TABLE:KEY",
        help="An Open Dental row instead: patient:, appointment:, commlog:, payment:, "
        "document:, patfield:, allergy:, medicationpat: or disease:<number>.",
        show_default=False,
    ),
]
OfficeId = Annotated[
    str | None,
    typer.Option(
        "--office", help="With --od: the office (default: the registry's only office).",
        show_default=False,
    ),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="One JSON object (shape: hub/trace/json_view.py).")
]


def register(app: typer.Typer) -> None:
    @app.command("trace")
    def trace_command(
        target: Target = None, od: Od = None, office: OfficeId = None, as_json: AsJson = False
    ) -> None:
        """Trace an intent to its Open Dental row, or an Open Dental row back to its intents."""
        if od is not None and target is None:
            traced = _trace_row(HubSettings(), od, office, as_json)
        elif target is not None and od is None and office is None:
            traced = _trace_intent(HubSettings(), target, as_json)
        else:
            raise typer.BadParameter("give VENDOR:IDEMPOTENCY_KEY, or --od TABLE:KEY [--office ID]")
        raise typer.Exit(code=asyncio.run(traced))

async def _trace_intent(settings: HubSettings, text: str, as_json: bool) -> int:
    try:
        target = parse_intent_target(text)
        trace = await run_intent_trace(settings, os.environ, target)
    except HubError as exc:
        typer.echo(f"hub trace: {exc}", err=True)
        return 1
    if trace is None:
        typer.echo(
            f"hub trace: no intent of vendor {target.vendor!r} with idempotency key"
            f" {target.idempotency_key!r} in the ledger (unknown, or purged after its retention)",
            err=True,
        )
        return 1
    typer.echo(intent_json(trace) if as_json else intent_text(trace))
    return 0


async def _trace_row(settings: HubSettings, text: str, office: str | None, as_json: bool) -> int:
    try:
        trace = await run_row_trace(settings, os.environ, parse_row_target(text), office)
    except HubError as exc:
        typer.echo(f"hub trace: {exc}", err=True)
        return 1
    row = trace.row
    try:
        changes = await read_row_changes(settings, row.office_id, row.table, row.primary_key)
        error = None
    except HubError as exc:  # the ledger's side and Open Dental's stand without the watch's
        changes, error = [], f"could not be read: {exc}"
    if as_json:
        document = json.loads(row_json(trace))
        document["changes"] = [change_dict(change) for change in changes]
        document["changes_error"] = error
        typer.echo(json.dumps(document, indent=2))
    else:
        title = "Changes seen by hub watch (oldest first, UTC), each with its door"
        section = f"{title}\n  {error}" if error else changes_text(changes, title, with_row=False)
        typer.echo(row_text(trace) + "\n\n" + section)
    return 0
