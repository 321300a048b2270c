"""The console's read pages: intents, an intent's trace, dead letters, lanes, the audit trail.

Each asks the same function as its command (``hub trace``, ``hub dlq list|show``, ``hub status``,
``hub audit``); only the intent search is the console's own (hub/console/search.py). No page
shows a payload: a dead letter's body appears only through the audited reveal
(hub/console/actions.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from aiohttp import web

from hub.audit import AuditError, AuditFilter, AuditResult, mysql_trail
from hub.audit.view import entry_json
from hub.console.app import console_of, refuse, render, see_other
from hub.console.search import IntentQuery, SearchError, search
from hub.dlq import DeadLetterFilter, DlqError, list_dead_letters, parse_moment, show_dead_letter
from hub.errors import HubError
from hub.registry import load_hub_registry
from hub.status import LaneLine, gather
from hub.trace import parse_intent_target, run_intent_trace
from hub.watch import Attribution
from hub.watch.run import read_row_changes
from hub.watch.views import who

DEAD_LETTER_FIELDS = ("vendor", "office", "contract", "reason", "since", "until", "id")
AUDIT_FIELDS = ("since", "until", "action", "operator", "target", "result")


async def home(request: web.Request) -> web.Response:
    return see_other("/intents")


async def intents(request: web.Request) -> web.Response:
    console = console_of(request)
    query = IntentQuery.from_params(request.query)
    assert console.search_db is not None, "opened with the application"
    try:
        found = await search(
            console.search_db, query, page_size=console.settings.console.page_size
        )
    except SearchError as exc:
        return render(request, "intents.html", code=400, query=query, page=None, error=str(exc))
    except HubError as exc:
        return render(request, "intents.html", code=503, query=query, page=None, error=str(exc))
    return render(request, "intents.html", query=query, page=found, error=None)


async def trace(request: web.Request) -> web.Response:
    """``hub trace VENDOR:KEY``: the intent's summary, timeline, row and securitylog; and, as
    ``hub trace --od`` shows them, each change of its row that hub watch saw, with its door."""
    console = console_of(request)
    text = request.query.get("intent", "")
    try:
        found = await run_intent_trace(console.settings, console.environ, parse_intent_target(text))
    except HubError as exc:
        return refuse(request, 400, f"hub trace: {exc}")
    if found is None:
        return refuse(request, 404, "no such intent in the ledger (unknown, or past its retention)")
    changes: list[Attribution] = []
    changes_error = None
    if found.row is not None:
        row = found.row
        try:
            changes = await read_row_changes(
                console.settings, row.office_id, row.table, row.primary_key
            )
        except HubError as exc:  # the ledger's story stands without the watch's
            changes_error = str(exc)
    return render(
        request, "trace.html", trace=found, target=text, changes=changes,
        changes_error=changes_error, who=who,
    )


def dead_letter_filter(values: dict[str, str]) -> DeadLetterFilter:
    """``hub dlq``'s filter from the form's fields (raises ValueError for a bad time)."""
    now = datetime.now(UTC)
    return DeadLetterFilter(
        vendor=values.get("vendor") or None, office=values.get("office") or None,
        contract=values.get("contract") or None, reason=values.get("reason") or None,
        since=parse_moment(values["since"], now) if values.get("since") else None,
        until=parse_moment(values["until"], now) if values.get("until") else None,
        message_id=values.get("id") or None,
    )


def filter_values(source: Mapping[str, object]) -> dict[str, str]:
    """The filter's fields from a query string or a form."""
    return {name: str(source.get(name, "")).strip() for name in DEAD_LETTER_FIELDS}


async def dead_letters(request: web.Request) -> web.Response:
    """``hub dlq list``: the matches in queue order, the queue left as it was."""
    console = console_of(request)
    values = filter_values(request.query)
    try:
        wanted = dead_letter_filter(values)
        report = await list_dead_letters(console.settings, wanted, where=console.where)
    except ValueError as exc:
        return refuse(request, 400, str(exc))
    except DlqError as exc:
        return refuse(request, 503, f"hub dlq: {exc}")
    return render(request, "dead_letters.html", values=values, report=report, purge=None)


async def dead_letter(request: web.Request) -> web.Response:
    """``hub dlq show ID`` without ``--body``: the body only through the audited reveal."""
    console = console_of(request)
    message_id = request.match_info["message_id"]
    try:
        letter = await show_dead_letter(console.settings, message_id, where=console.where)
    except DlqError as exc:
        return refuse(request, 503, f"hub dlq: {exc}")
    if letter is None:
        return refuse(request, 404, "no such dead letter (replayed, purged or expired)")
    return render(request, "dead_letter.html", letter=letter, body=None, replayed=None)


def _shown(lane: LaneLine, office: str, attention: bool) -> bool:
    """The lanes the page's filter keeps: offices whose id holds ``office``; with
    ``attention``, only those not running (paused, backing off, stale, without a writer)."""
    return office in lane.office and not (attention and lane.state == "running")


async def lanes(request: web.Request) -> web.Response:
    """``hub status``, and the registry's vendors with their pauses; filtered by office."""
    console = console_of(request)
    office = request.query.get("office", "").strip()
    attention = request.query.get("attention") == "1"
    status = await gather(console.settings)
    kept = [lane for lane in status.lanes if _shown(lane, office, attention)]
    status = replace(status, lanes=kept)
    try:
        registry = await asyncio.to_thread(load_hub_registry, console.settings, console.environ)
        vendors = sorted(registry.vendors)
    except HubError as exc:
        status.problems.append(f"registry: {exc}")
        vendors = []
    paused = {pause.name: pause for pause in status.paused_vendors}
    return render(
        request, "lanes.html", status=status, vendors=sorted(set(vendors) | set(paused)),
        paused=paused, done=request.query.get("done"), office=office, attention=attention,
    )


async def audit_trail(request: web.Request) -> web.Response:
    """``hub audit``: the newest matching rows, oldest first."""
    console = console_of(request)
    values = {name: request.query.get(name, "").strip() for name in AUDIT_FIELDS}
    now = datetime.now(UTC)
    try:
        wanted = AuditFilter(
            since=parse_moment(values["since"], now) if values["since"] else None,
            until=parse_moment(values["until"], now) if values["until"] else None,
            action=values["action"] or None, operator=values["operator"] or None,
            target=values["target"] or None,
            result=AuditResult(values["result"]) if values["result"] else None,
            limit=console.settings.console.page_size,
        )
        async with mysql_trail(console.settings.ledger_db) as trail:
            rows = await trail.entries(wanted)
    except ValueError as exc:
        return refuse(request, 400, str(exc))
    except AuditError as exc:
        return refuse(request, 503, f"hub audit: {exc}")
    return render(request, "audit.html", values=values, rows=[entry_json(row) for row in rows])


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/intents", intents)
    app.router.add_get("/trace", trace)
    app.router.add_get("/dead-letters", dead_letters)
    app.router.add_get("/dead-letters/{message_id}", dead_letter)
    app.router.add_get("/lanes", lanes)
    app.router.add_get("/audit", audit_trail)
