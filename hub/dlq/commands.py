"""``hub dlq list|show|replay``: each opens one connection, scans, acts, and gives back the rest.

A replay that has matches is audited (``dlq_replay``) before the first is re-published: its filter,
its count (and the count the operator confirmed), and at the end how many were replayed and who
cancelled it, if someone did. ``purge`` lives in ``hub.dlq.purge``: it also asks, and writes a
manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aio_pika.abc import AbstractConnection

from hub.audit import AuditAction, AuditEntry, JsonValue, Operator, audit
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
from hub.dlq.replay import ReplayProgress, ReplayResult, planned, replay_all
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
    matched: int  # what the filter matched (up to its limit) when the replay began
    confirmed: bool = True  # False: the filter no longer matched the count expected; nothing moved
    cancelled_by: str | None = None  # who stopped it before its end


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
    expected: int | None = None,
    progress: ReplayProgress | None = None,
    gap_s: float = 0.0,
    where: DlqNames = DEFAULT_NAMES,
    bounds: ScanBounds = DEFAULT_BOUNDS,
) -> ReplayReport:
    """Re-publish the matches to the intents exchange in queue order; each leaves the queue once
    confirmed. With ``expected``, only if the filter still matches exactly that many (as a purge
    asks); ``progress`` shows each result as it lands and can cancel the rest; ``gap_s`` apart.
    Audited as ``operator``'s unless it is a dry run, nothing matches or the count is stale."""
    progress = progress or ReplayProgress()
    async with dlq_connection(settings.broker_url, settings.tls) as connection:
        reader = await connection.channel(publisher_confirms=False)
        async with held_scan(reader, where.queue, wanted, bounds) as scan:
            matched = len(scan.matches)
            progress.total = matched
            confirmed = expected is None or expected == matched
            if not confirmed:
                results = []
            elif dry_run or not scan.matches:
                results = [planned(held) for held in scan.matches]
            else:
                replay = _Replay(settings, operator, where, wanted, expected, gap_s)
                results = await replay.run(connection, scan, progress)
            return ReplayReport(
                results=results, summary=scan.summary, matched=matched, confirmed=confirmed,
                cancelled_by=progress.cancelled_by,
            )


@dataclass(frozen=True)
class _Replay:
    settings: HubSettings
    operator: Operator
    where: DlqNames
    wanted: DeadLetterFilter
    expected: int | None
    gap_s: float

    async def run(
        self, connection: AbstractConnection, scan: Scan, progress: ReplayProgress
    ) -> list[ReplayResult]:
        ids = [held.letter.message_id for held in scan.matches]
        details: dict[str, JsonValue] = {
            "filter": self.wanted.described(), "letters": len(ids),
            "message_ids": list(ids[:MAX_AUDITED_IDS]),
        }
        if self.expected is not None:
            details["confirmed"] = self.expected
        entry = AuditEntry(
            operator=self.operator, action=AuditAction.DLQ_REPLAY, target=self.where.queue,
            details=details,
        )
        async with audit(self.settings.ledger_db, entry) as run:
            # Its own channel: a refused publish closes it, never the one holding the queue.
            publisher = await connection.channel(publisher_confirms=True)
            user = broker_user(self.settings.broker_url)
            results = await replay_all(
                publisher, self.where.intents_exchange, scan, user, progress, self.gap_s
            )
            replayed = progress.replayed
            run.note(replayed=replayed, kept=len(ids) - replayed)
            if progress.cancelled_by is not None:
                run.note(cancelled_by=progress.cancelled_by)
                run.fail("cancelled")
            elif replayed < len(ids):
                run.fail("kept_on_queue")
        return results
