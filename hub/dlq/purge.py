"""``hub dlq purge``: remove the matching dead letters for good, asked first and audited first.

The scan holds the matches while ``confirm`` is asked (the question runs off the event loop, so
the connection's heartbeats go on). Confirmed, the audit (who, when, filter, count, which
intents) is committed to the ledger, and only then are the messages acked off the queue. If the
audit fails nothing is removed; if the connection fails after the commit, the audit names
messages that are back on the queue, and the error says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hub.dlq.audit import Operator, PurgeRecord, record_purge
from hub.dlq.broker import dlq_connection
from hub.dlq.filters import DeadLetterFilter
from hub.dlq.model import (
    DEFAULT_BOUNDS,
    DEFAULT_NAMES,
    DeadLetter,
    DlqError,
    DlqNames,
    ScanBounds,
    ScanSummary,
)
from hub.dlq.scan import Scan, held_scan
from hub.errors import LedgerError, TransientError
from hub.settings import HubSettings


@dataclass(frozen=True, kw_only=True)
class PurgePlan:
    """What a purge would remove; shown to the operator before anything happens."""

    queue: str
    wanted: DeadLetterFilter
    letters: list[DeadLetter]
    summary: ScanSummary


Confirm = Callable[[PurgePlan], Awaitable[bool]]


@dataclass(frozen=True, kw_only=True)
class PurgeReport:
    plan: PurgePlan
    purged: int
    purge_id: int | None  # the dlq_purges row; None when nothing was purged


async def purge_dead_letters(
    settings: HubSettings,
    wanted: DeadLetterFilter,
    *,
    operator: Operator,
    confirm: Confirm,
    where: DlqNames = DEFAULT_NAMES,
    bounds: ScanBounds = DEFAULT_BOUNDS,
) -> PurgeReport:
    """Purge the matches if ``confirm`` agrees: audit committed first, then the acks."""
    async with dlq_connection(settings.broker_url) as connection:
        reader = await connection.channel(publisher_confirms=False)
        async with held_scan(reader, where.queue, wanted, bounds) as scan:
            plan = PurgePlan(
                queue=where.queue,
                wanted=wanted,
                letters=[held.letter for held in scan.matches],
                summary=scan.summary,
            )
            if not plan.letters or not await confirm(plan):
                return PurgeReport(plan=plan, purged=0, purge_id=None)
            if reader.is_closed:
                raise DlqError("the broker connection closed while waiting; nothing was purged")
            purge_id = await _audit(settings, operator, plan)
            await _remove_all(scan, purge_id)
            return PurgeReport(plan=plan, purged=len(plan.letters), purge_id=purge_id)


async def _audit(settings: HubSettings, operator: Operator, plan: PurgePlan) -> int:
    record = PurgeRecord(
        operator=operator, queue=plan.queue, filter=plan.wanted.described(), letters=plan.letters
    )
    try:
        return await record_purge(settings.ledger_db, record)
    except (LedgerError, TransientError) as exc:
        raise DlqError(
            f"the purge could not be recorded, so nothing was purged ({exc}); "
            "hub migrate brings the ledger's schema up to date"
        ) from exc


async def _remove_all(scan: Scan, purge_id: int) -> None:
    try:
        for held in scan.matches:
            await scan.remove(held)
    except DlqError as exc:
        raise DlqError(
            f"purge {purge_id} was recorded, but the broker connection failed before every "
            "message was removed; those not removed are back on the queue"
        ) from exc
