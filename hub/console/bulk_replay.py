"""Bulk replay of the dead letters the current filter matches: preview, confirm, run, cancel.

    GET  /bulk-replay?FILTER        the count and the first letters, as ``hub dlq replay --dry-run``
    POST /bulk-replay               confirmed with the count the preview showed: starts the replay
    GET  /bulk-replay/ID            its progress and each letter's result (refreshes while it runs)
    POST /bulk-replay/ID/cancel     stops it before the next letter

The replay is ``hub dlq replay --expect COUNT`` (``replay_dead_letters``): it goes on only if the
filter still matches the count confirmed, in queue order (so each office's order is kept), audited
as the signed-in operator's with its filter, count and, if it was cancelled, who did. It runs in
the background on the console's event loop; the replays of this console process are kept in its
memory (the last ``KEPT_REPLAYS``), and a replay still running when the console stops is
cancelled there, its letters not reached staying in ``hub.dead``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from aiohttp import web

from hub.audit import Operator, os_user
from hub.console.app import CONSOLE, console_of, needs, refuse, render, see_other, session_of
from hub.console.pages import dead_letter_filter, filter_values
from hub.console.users import Role
from hub.dlq import (
    DeadLetterFilter,
    ReplayProgress,
    ReplayReport,
    ReplayResult,
    ReplayStatus,
    replay_dead_letters,
)
from hub.dlq.constants import DEFAULT_SCAN_MAX_MESSAGES
from hub.errors import HubError

log = logging.getLogger(__name__)

PREVIEW_LETTERS = 20  # the preview lists the first of the matches; the count is of all
# A bulk replay takes every match the scan reads, not hub dlq's default of 100.
BULK_LIMIT = DEFAULT_SCAN_MAX_MESSAGES
KEPT_REPLAYS = 50
STOPPED_BY_SHUTDOWN = "console shutdown"


@dataclass(kw_only=True)
class BulkReplay:
    """One bulk replay started from the console: who, which filter, how far it got."""

    id: str
    user: str
    values: dict[str, str]  # the filter's fields as the form had them
    expected: int
    started_at: datetime
    progress: ReplayProgress = field(default_factory=ReplayProgress)
    report: ReplayReport | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def results(self) -> list[ReplayResult]:
        return self.report.results if self.report is not None else self.progress.results

    @property
    def failed(self) -> int:
        return sum(result.status is not ReplayStatus.REPLAYED for result in self.results)


def _wanted(values: dict[str, str]) -> DeadLetterFilter:
    """The page's filter, every match (up to the scan's bound) rather than hub dlq's 100."""
    return replace(dead_letter_filter(values), limit=BULK_LIMIT)


@needs(Role.OPERATOR)
async def preview(request: web.Request) -> web.Response:
    """``hub dlq replay --dry-run``: the count and the first matches; nothing moves."""
    console = console_of(request)
    values = filter_values(request.query)
    try:
        report = await replay_dead_letters(
            console.settings, _wanted(values), operator=_operator(request), dry_run=True,
            where=console.where,
        )
    except ValueError as exc:
        return refuse(request, 400, str(exc))
    except HubError as exc:
        return refuse(request, 503, f"hub dlq replay: {exc}")
    return render(
        request, "bulk_preview.html", values=values, report=report,
        first=report.results[:PREVIEW_LETTERS],
    )


@needs(Role.OPERATOR)
async def start(request: web.Request) -> web.Response:
    """Start the replay the preview showed, confirmed with the count it showed."""
    console = console_of(request)
    form = await request.post()
    values = filter_values(form)
    try:
        expected = int(str(form.get("expected", "")))
        wanted = _wanted(values)
    except ValueError:
        return refuse(request, 400, "the confirmation needs the count the preview showed")
    job = BulkReplay(
        id=secrets.token_urlsafe(8), user=session_of(request).user, values=values,
        expected=expected, started_at=datetime.now(UTC),
    )
    job.task = asyncio.create_task(_run(request.app, job, wanted, _operator(request)))
    console.replays[job.id] = job
    for old in list(console.replays)[:-KEPT_REPLAYS]:
        if not console.replays[old].running:
            del console.replays[old]
    return see_other(f"/bulk-replay/{job.id}")


async def _run(
    app: web.Application, job: BulkReplay, wanted: DeadLetterFilter, who: Operator
) -> None:
    console = app[CONSOLE]
    try:
        job.report = await replay_dead_letters(
            console.settings, wanted, operator=who, expected=job.expected,
            progress=job.progress, gap_s=console.settings.console.bulk_replay_gap_s,
            where=console.where,
        )
    except HubError as exc:
        job.error = str(exc)
        log.warning("console: bulk replay %s stopped: %s", job.id, exc)


@needs(Role.OPERATOR)
async def progress(request: web.Request) -> web.Response:
    job = console_of(request).replays.get(request.match_info["replay_id"])
    if job is None:
        return refuse(request, 404, "no such bulk replay in this console (it restarted?)")
    return render(request, "bulk_replay.html", job=job, Status=ReplayStatus)


@needs(Role.OPERATOR)
async def cancel(request: web.Request) -> web.Response:
    job = console_of(request).replays.get(request.match_info["replay_id"])
    if job is None:
        return refuse(request, 404, "no such bulk replay in this console (it restarted?)")
    if job.running:
        job.progress.cancel(session_of(request).user)
    return see_other(f"/bulk-replay/{job.id}")


def _operator(request: web.Request) -> Operator:
    return Operator(os_user=os_user(), name=session_of(request).user)


async def _stop_replays(app: web.Application) -> AsyncIterator[None]:
    yield
    running = [job for job in app[CONSOLE].replays.values() if job.running]
    for job in running:
        job.progress.cancel(STOPPED_BY_SHUTDOWN)
    await asyncio.gather(*(job.task for job in running if job.task is not None))


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_stop_replays)
    app.router.add_get("/bulk-replay", preview)
    app.router.add_post("/bulk-replay", start)
    app.router.add_get("/bulk-replay/{replay_id}", progress)
    app.router.add_post("/bulk-replay/{replay_id}/cancel", cancel)

