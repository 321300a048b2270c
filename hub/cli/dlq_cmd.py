"""``hub dlq list|show|replay|purge``: the dead letters in ``hub.dead``.

Exit codes: 0 done; 1 the broker or ledger failed, ``show`` found nothing, ``replay`` kept a
match on the queue, or ``purge`` was not confirmed; 2 wrong usage.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import typer

from hub import names
from hub.cli.audit_cmd import OperatorOption, operator_for
from hub.dlq import (
    DeadLetterFilter,
    DlqNames,
    Operator,
    PurgePlan,
    ReplayStatus,
    ScanBounds,
    ScanSummary,
    list_dead_letters,
    parse_moment,
    purge_dead_letters,
    replay_dead_letters,
    show_dead_letter,
)
from hub.dlq.constants import DEFAULT_LIMIT, DEFAULT_SCAN_MAX_MESSAGES
from hub.dlq.views import letter_text, letters_json, letters_table, replay_lines, scan_notes
from hub.errors import HubError
from hub.settings import HubSettings

HELP = (
    "Dead letters (rejected, dead and poison intents in hub.dead): list, show, replay, purge. "
    "Reading holds the matched messages and gives them back in order; nothing is lost."
)
Vendor = Annotated[str | None, typer.Option(help="Only this vendor's.", show_default=False)]
Office = Annotated[str | None, typer.Option(help="Only this office's.", show_default=False)]
Contract = Annotated[
    str | None, typer.Option(help="Only this contract, e.g. patient.create.", show_default=False)
]
Reason = Annotated[
    str | None,
    typer.Option(
        help="Only this reason, e.g. invalid, retries_exhausted, delivery_limit (poison).",
        show_default=False,
    ),
]
Since = Annotated[
    str | None,
    typer.Option(
        help="Dead-lettered at or after: ISO 8601 (UTC unless it has an offset), or 30m, 2h, 7d "
        "ago. Messages of unknown time never match a time filter.",
        show_default=False,
    ),
]
Until = Annotated[
    str | None, typer.Option(help="Dead-lettered before (as --since).", show_default=False)
]
MessageId = Annotated[
    str | None,
    typer.Option("--id", help="Only this message id or idempotency key.", show_default=False),
]
Limit = Annotated[int, typer.Option(min=1, help="At most this many matches.")]
Queue = Annotated[str, typer.Option(help="The dead-letter queue to read.")]
ScanMax = Annotated[
    int, typer.Option(min=1, help="Read (and hold, unacked) at most this many messages.")
]
AsJson = Annotated[bool, typer.Option("--json", help="One JSON object; never bodies.")]
Body = Annotated[
    bool,
    typer.Option(
        "--body", help="Also print the body. It may hold patient data: off unless asked."
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="List what would be replayed.")]
Expect = Annotated[
    int | None,
    typer.Option(
        "--expect", min=0, metavar="N",
        help="Replay only if the filter still matches exactly N (the count a --dry-run showed); "
        "otherwise nothing moves and the exit code is 1.",
        show_default=False,
    ),
]
Yes = Annotated[bool, typer.Option("--yes", help="Do not ask (for scripts).")]


dlq = typer.Typer(no_args_is_help=True, help=HELP)


def register(app: typer.Typer) -> None:
    app.add_typer(dlq, name="dlq")


@dlq.command("list")
def list_(
    vendor: Vendor = None, office: Office = None, contract: Contract = None,
    reason: Reason = None, since: Since = None, until: Until = None,
    message_id: MessageId = None, limit: Limit = DEFAULT_LIMIT,
    queue: Queue = names.DEAD_LETTER_QUEUE, scan_max: ScanMax = DEFAULT_SCAN_MAX_MESSAGES,
    as_json: AsJson = False,
) -> None:
    """List the matching dead letters in queue order, as a table or --json."""
    wanted = _wanted(vendor, office, contract, reason, since, until, message_id, limit)
    where, bounds = DlqNames(queue=queue), ScanBounds(max_messages=scan_max)
    raise typer.Exit(code=asyncio.run(_list(wanted, where, bounds, as_json)))


@dlq.command("show")
def show(
    id_: Annotated[str, typer.Argument(metavar="ID", help="Message id or idempotency key.")],
    vendor: Vendor = None, office: Office = None, contract: Contract = None,
    reason: Reason = None, since: Since = None, until: Until = None,
    queue: Queue = names.DEAD_LETTER_QUEUE, scan_max: ScanMax = DEFAULT_SCAN_MAX_MESSAGES,
    body: Body = False,
) -> None:
    """Print one dead letter: properties, headers, and the body only with --body.

    The first match of ID is shown; add filters to pick another. The body may hold patient
    data, so it is printed only with --body.
    """
    wanted = _wanted(vendor, office, contract, reason, since, until, None, 1)
    where, bounds = DlqNames(queue=queue), ScanBounds(max_messages=scan_max)
    raise typer.Exit(code=asyncio.run(_show(id_, wanted, where, bounds, body)))


@dlq.command("replay")
def replay(
    vendor: Vendor = None, office: Office = None, contract: Contract = None,
    reason: Reason = None, since: Since = None, until: Until = None,
    message_id: MessageId = None, limit: Limit = DEFAULT_LIMIT,
    queue: Queue = names.DEAD_LETTER_QUEUE, scan_max: ScanMax = DEFAULT_SCAN_MAX_MESSAGES,
    dry_run: DryRun = False, expect: Expect = None, operator: OperatorOption = None,
) -> None:
    """Re-publish the matches to hub.replay (routed like hub.intents) as their vendors sent them.

    Same body, user_id and idempotency key: a rejected or dead intent is processed again, an
    intent applied meanwhile is answered as a duplicate and changes nothing. Each leaves the
    queue once the broker confirmed it. Needs RabbitMQ's impersonator tag on the hub's broker
    user (scripts/setup-broker.sh adds it). Audited (hub audit) before the first is replayed.
    A bulk replay: --dry-run shows the count and the matches, then --expect N replays them
    only if the filter still matches that many. Queue order is kept, so each office's order is.
    """
    wanted = _wanted(vendor, office, contract, reason, since, until, message_id, limit)
    where, bounds = DlqNames(queue=queue), ScanBounds(max_messages=scan_max)
    settings = HubSettings()
    who = operator_for(operator, settings)
    plan = _ReplayPlan(wanted=wanted, where=where, bounds=bounds, dry_run=dry_run, expect=expect)
    raise typer.Exit(code=asyncio.run(_replay(settings, who, plan)))


@dlq.command("purge")
def purge(
    vendor: Vendor = None, office: Office = None, contract: Contract = None,
    reason: Reason = None, since: Since = None, until: Until = None,
    message_id: MessageId = None, limit: Limit = DEFAULT_LIMIT,
    queue: Queue = names.DEAD_LETTER_QUEUE, scan_max: ScanMax = DEFAULT_SCAN_MAX_MESSAGES,
    yes: Yes = False, operator: OperatorOption = None,
) -> None:
    """Remove the matches for good, after you type yes (or --yes).

    The purge is audited (hub audit: OS user, --operator, time, filter, count) and its manifest
    recorded (dlq_purges: which intents), both committed before any message leaves the queue.
    """
    wanted = _wanted(vendor, office, contract, reason, since, until, message_id, limit)
    where, bounds = DlqNames(queue=queue), ScanBounds(max_messages=scan_max)
    settings = HubSettings()
    who = operator_for(operator, settings)
    raise typer.Exit(code=asyncio.run(_purge(settings, wanted, where, bounds, who, yes)))


def _wanted(
    vendor: str | None, office: str | None, contract: str | None, reason: str | None,
    since: str | None, until: str | None, message_id: str | None, limit: int,
) -> DeadLetterFilter:
    now = datetime.now(UTC)
    try:
        return DeadLetterFilter(
            vendor=vendor, office=office, contract=contract, reason=reason,
            since=None if since is None else parse_moment(since, now),
            until=None if until is None else parse_moment(until, now),
            message_id=message_id, limit=limit,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


async def _list(
    wanted: DeadLetterFilter, where: DlqNames, bounds: ScanBounds, as_json: bool
) -> int:
    try:
        report = await list_dead_letters(HubSettings(), wanted, where=where, bounds=bounds)
    except HubError as exc:
        return _failed("list", exc)
    if as_json:
        typer.echo(letters_json(report.letters, report.summary))
    else:
        typer.echo(letters_table(report.letters))
    _note(report.summary)
    return 0


async def _show(
    id_: str, wanted: DeadLetterFilter, where: DlqNames, bounds: ScanBounds, body: bool
) -> int:
    try:
        letter = await show_dead_letter(HubSettings(), id_, wanted, where=where, bounds=bounds)
    except HubError as exc:
        return _failed("show", exc)
    if letter is None:
        typer.echo(f"hub dlq show: no dead letter with id {id_!r} in {where.queue}", err=True)
        return 1
    typer.echo(letter_text(letter, with_body=body))
    return 0


@dataclass(frozen=True, kw_only=True)
class _ReplayPlan:
    wanted: DeadLetterFilter
    where: DlqNames
    bounds: ScanBounds
    dry_run: bool
    expect: int | None


async def _replay(settings: HubSettings, who: Operator, plan: _ReplayPlan) -> int:
    dry_run = plan.dry_run
    try:
        report = await replay_dead_letters(
            settings, plan.wanted, operator=who, dry_run=dry_run, expected=plan.expect,
            where=plan.where, bounds=plan.bounds,
        )
    except HubError as exc:
        return _failed("replay", exc)
    if not report.confirmed:
        typer.echo(f"the filter matches {report.matched}, not {plan.expect}: nothing replayed",
                   err=True)
        return 1
    if report.results:
        typer.echo(replay_lines(report.results))
    _note(report.summary)
    done = {ReplayStatus.REPLAYED, ReplayStatus.WOULD_REPLAY}
    kept = sum(result.status not in done for result in report.results)
    typer.echo(f"{len(report.results) - kept} of {len(report.results)} match(es) "
               f"{'would be ' if dry_run else ''}replayed", err=True)
    return 1 if kept else 0


async def _purge(
    settings: HubSettings, wanted: DeadLetterFilter, where: DlqNames, bounds: ScanBounds,
    who: Operator, yes: bool,
) -> int:
    async def confirm(plan: PurgePlan) -> bool:
        return await asyncio.to_thread(_ask, plan, yes)

    try:
        report = await purge_dead_letters(
            settings, wanted, operator=who, confirm=confirm, where=where, bounds=bounds
        )
    except HubError as exc:
        return _failed("purge", exc)
    _note(report.plan.summary)
    if not report.plan.letters:
        typer.echo("nothing matches; nothing purged")
        return 0
    if report.purge_id is None:
        typer.echo("not confirmed; nothing purged")
        return 1
    typer.echo(
        f"purged {report.purged} dead letter(s); audit entry {report.audit_id} "
        f"(hub audit --action dlq_purge), manifest dlq_purges.id={report.purge_id}"
    )
    return 0


def _ask(plan: PurgePlan, yes: bool) -> bool:
    """Runs in a thread: the event loop keeps the broker connection alive meanwhile."""
    described = json.dumps(plan.wanted.described(), sort_keys=True)
    typer.echo(f"{len(plan.letters)} dead letter(s) in {plan.queue} match {described}:")
    typer.echo(letters_table(plan.letters))
    if yes:
        return True
    try:
        answer = input("Type yes to purge them for good: ")
    except EOFError:
        answer = ""
    return answer.strip() == "yes"


def _note(summary: ScanSummary) -> None:
    for note in scan_notes(summary):
        typer.echo(f"note: {note}", err=True)


def _failed(verb: str, exc: HubError) -> int:
    typer.echo(f"hub dlq {verb}: {exc}", err=True)
    return 1
