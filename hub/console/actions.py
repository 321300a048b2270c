"""The console's state-changing pages: every one a POST with the session's CSRF token, checked
for its role, and done by the same audited function as its command.

    operator: replay one dead letter (``hub dlq replay --id``), pause and resume an office
              (``hub office pause|resume``), reveal a dead letter's body (audited
              ``payload_reveal``, like ``hub dlq show --body`` but with a record of who looked);
              a filter's dead letters in bulk: hub/console/bulk_replay.py
    admin:    purge dead letters (``hub dlq purge``, typed confirmation), pause and resume a
              vendor (``hub vendor pause|resume``)

The audit trail names the signed-in user as the operator and the console's OS user beside it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote

from aiohttp import web

from hub.audit import AuditAction, AuditEntry, AuditError, Operator, audit, os_user
from hub.console.app import Handler, console_of, needs, refuse, render, see_other, session_of
from hub.console.pages import dead_letter_filter, filter_values
from hub.console.users import Role
from hub.control.commands import (
    PauseResult,
    Who,
    pause_office,
    pause_vendor,
    resume_office,
    resume_vendor,
)
from hub.dlq import (
    DeadLetterFilter,
    DlqError,
    PurgePlan,
    purge_dead_letters,
    replay_dead_letters,
    show_dead_letter,
)
from hub.errors import HubError
from hub.settings import HubSettings

PauseCommand = Callable[[HubSettings, Mapping[str, str], str, Who], Awaitable[PauseResult]]


def operator(request: web.Request) -> Operator:
    return Operator(os_user=os_user(), name=session_of(request).user)


@needs(Role.OPERATOR)
async def reveal(request: web.Request) -> web.Response:
    """The body of one dead letter, shown once, after its audit entry is committed."""
    console = console_of(request)
    message_id = request.match_info["message_id"]
    entry = AuditEntry(
        operator=operator(request), action=AuditAction.PAYLOAD_REVEAL, target=console.where.queue,
        details={"message_id": message_id},
    )
    try:
        async with audit(console.settings.ledger_db, entry) as run:
            letter = await show_dead_letter(console.settings, message_id, where=console.where)
            run.note(found=letter is not None)
    except AuditError as exc:
        return refuse(request, 503, f"{exc}: the payload was not shown")
    except DlqError as exc:
        return refuse(request, 503, f"hub dlq: {exc}")
    if letter is None:
        return refuse(request, 404, "no such dead letter (replayed, purged or expired)")
    body = letter.body.decode("utf-8", errors="replace")
    return render(request, "dead_letter.html", letter=letter, body=body, replayed=None)


@needs(Role.OPERATOR)
async def replay(request: web.Request) -> web.Response:
    """``hub dlq replay --id ID``: one dead letter back to its office queue, audited."""
    console = console_of(request)
    message_id = request.match_info["message_id"]
    wanted = DeadLetterFilter(message_id=message_id, limit=1)
    try:
        report = await replay_dead_letters(
            console.settings, wanted, operator=operator(request), where=console.where
        )
    except HubError as exc:
        return refuse(request, 503, f"hub dlq replay: {exc}")
    if not report.results:
        return refuse(request, 404, "no such dead letter (replayed, purged or expired)")
    (result,) = report.results
    return render(request, "dead_letter.html", letter=result.letter, body=None, replayed=result)


@needs(Role.ADMIN)
async def purge(request: web.Request) -> web.Response:
    """``hub dlq purge [filters]``: the admin types how many dead letters the list showed; the
    purge goes on only if the filter still matches exactly that many."""
    console = console_of(request)
    form = await request.post()
    values = filter_values(form)
    typed = str(form.get("confirm", "")).strip()

    async def confirm(plan: PurgePlan) -> bool:
        return typed == str(len(plan.letters))

    try:
        report = await purge_dead_letters(
            console.settings, dead_letter_filter(values), operator=operator(request),
            confirm=confirm, where=console.where,
        )
    except ValueError as exc:
        return refuse(request, 400, str(exc))
    except HubError as exc:
        return refuse(request, 503, f"hub dlq purge: {exc}")
    return render(
        request, "purged.html", report=report, typed=typed, values=values,
    )


def _pause_action(command: PauseCommand, kind: str, verb: str) -> Handler:
    async def act(request: web.Request) -> web.StreamResponse:
        console = console_of(request)
        name = request.match_info["name"]
        form = await request.post()
        reason = str(form.get("reason", "")).strip() or None
        who = Who(operator=session_of(request).user, reason=reason, os_user=os_user())
        try:
            result = await command(console.settings, console.environ, name, who)
        except HubError as exc:
            return refuse(request, 400, f"hub {kind} {verb}: {exc}")
        said = f"{kind} {name} {verb}d" if result.changed else f"{kind} {name} was already {verb}d"
        # Back to the lanes, showing the office acted on (a fleet's page is long).
        office = f"&office={quote(name)}" if kind == "office" else ""
        return see_other(f"/lanes?done={quote(said)}{office}")

    return act


def add_routes(app: web.Application) -> None:
    app.router.add_post("/dead-letters/{message_id}/reveal", reveal)
    app.router.add_post("/dead-letters/{message_id}/replay", replay)
    app.router.add_post("/dead-letters-purge", purge)
    for kind, role, pause, resume in (
        ("office", Role.OPERATOR, pause_office, resume_office),
        ("vendor", Role.ADMIN, pause_vendor, resume_vendor),
    ):
        allowed = needs(role)
        app.router.add_post(
            f"/{kind}s/{{name}}/pause", allowed(_pause_action(pause, kind, "pause"))
        )
        app.router.add_post(
            f"/{kind}s/{{name}}/resume", allowed(_pause_action(resume, kind, "resume"))
        )
