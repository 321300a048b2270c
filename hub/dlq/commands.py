"""``hub dlq list|show|replay``: each opens one connection, scans, acts, and gives back the rest.

A replay that has matches is audited (``dlq_replay``) before the first is re-published. ``purge``
lives in ``hub.dlq.purge``: it also asks, and writes a manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aio_pika.abc import AbstractConnection

from hub.audit import AuditAction, AuditEntry, Operator, audit
from hub.dlq.broker import broker_user, dlq_connection
from hub.dlq.filters import ANY, DeadLetterFilter
from hub.dlq.model import (
    DEFAULT_BOUNDS,
    DEFAULT_NAMES,
    DeadLetter,
    DlqNames,
    ScanBounds,
    ScanSummary,
)
from hub.dlq.replay import ReplayResult, ReplayStatus, planned, replay_all
from hub.dlq.scan import Scan, held_scan
from hub.settings import HubSettings

MAX_AUDITED_IDS = 100  # a replay's entry names at most this many message ids (and counts all)


@dataclass(frozen=True, kw_only=True)
class ScanReport:
    letters: list[DeadLetter]
    summary: ScanSummary


@dataclass(frozen=True, kw_only=True)
class ReplayReport:
    results: list[ReplayResult]
    summary: ScanSummary


async def list_dead_letters(
    settings: HubSettings,
    wanted: DeadLetterFilter,
    *,
    where: DlqNames = DEFAULT_NAMES,
    bounds: ScanBounds = DEFAULT_BOUNDS,
) -> ScanReport:
    """The matching dead letters, in queue order; the queue is left as it was."""
    async with dlq_connection(settings.broker_url, settings.tls) as connection:
        reader = await connection.channel(publisher_confirms=False)
        async with held_scan(reader, where.queue, wanted, bounds) as scan:
            letters = [held.letter for held in scan.matches]
            return ScanReport(letters=letters, summary=scan.summary)


async def show_dead_letter(
    settings: HubSettings,
    message_id: str,
    wanted: DeadLetterFilter = ANY,
    *,
    where: DlqNames = DEFAULT_NAMES,
    bounds: ScanBounds = DEFAULT_BOUNDS,
) -> DeadLetter | None:
    """The first dead letter whose message id or idempotency key is ``message_id``."""
    one = replace(wanted, message_id=message_id, limit=1)
    report = await list_dead_letters(settings, one, where=where, bounds=bounds)
    return report.letters[0] if report.letters else None


async def replay_dead_letters(
    settings: HubSettings,
    wanted: DeadLetterFilter,
    *,
    operator: Operator,
    dry_run: bool = False,
    where: DlqNames = DEFAULT_NAMES,
    bounds: ScanBounds = DEFAULT_BOUNDS,
) -> ReplayReport:
    """Re-publish the matches to the intents exchange; each leaves the queue once confirmed.
    Audited as ``operator``'s unless it is a dry run or nothing matches."""
    async with dlq_connection(settings.broker_url, settings.tls) as connection:
        reader = await connection.channel(publisher_confirms=False)
        async with held_scan(reader, where.queue, wanted, bounds) as scan:
            if dry_run or not scan.matches:
                results = [planned(held) for held in scan.matches]
            else:
                results = await _replay(settings, operator, connection, where, wanted, scan)
            return ReplayReport(results=results, summary=scan.summary)


async def _replay(
    settings: HubSettings, operator: Operator, connection: AbstractConnection, where: DlqNames,
    wanted: DeadLetterFilter, scan: Scan,
) -> list[ReplayResult]:
    ids = [held.letter.message_id for held in scan.matches]
    entry = AuditEntry(
        operator=operator, action=AuditAction.DLQ_REPLAY, target=where.queue,
        details={"filter": wanted.described(), "letters": len(ids),
                 "message_ids": ids[:MAX_AUDITED_IDS]},
    )
    async with audit(settings.ledger_db, entry) as run:
        # Its own channel: a refused publish closes it, never the one holding the queue.
        publisher = await connection.channel(publisher_confirms=True)
        user = broker_user(settings.broker_url)
        results = await replay_all(publisher, where.intents_exchange, scan, user)
        replayed = sum(result.status is ReplayStatus.REPLAYED for result in results)
        run.note(replayed=replayed, kept=len(results) - replayed)
        if replayed < len(results):
            run.fail("kept_on_queue")
    return results
