"""``hub dlq purge``: remove the matching dead letters for good, asked first and audited first.

The scan holds the matches while ``confirm`` is asked (the question runs off the event loop, so
the connection's heartbeats go on). Confirmed, the audit entry (``dlq_purge``: who, when, queue,
filter, count) is committed, then the manifest (which intents, ``dlq_purges``), and only then
are the messages acked off the queue; the entry then records how many were purged. If either
write fails nothing is removed; if the connection fails after them, the manifest names messages
that are back on the queue, the entry ends failed, and the error says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hub.audit import AuditAction, AuditEntry, AuditError, Operator, audit
from hub.dlq.broker import dlq_connection
from hub.dlq.filters import DeadLetterFilter
from hub.dlq.manifest import PurgeRecord, record_purge
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
    audit_id: int | None = None  # the operator_audit entry; None when nothing was purged


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
    async with dlq_connection(settings.broker_url, settings.tls) as connection:
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
            return await _purge(settings, operator, plan, scan)


async def _purge(
    settings: HubSettings, operator: Operator, plan: PurgePlan, scan: Scan
) -> PurgeReport:
    """Audit entry, manifest, then the removals."""
    entry = AuditEntry(
        operator=operator, action=AuditAction.DLQ_PURGE, target=plan.queue,
        details={"filter": plan.wanted.described(), "letters": len(plan.letters)},
    )
    try:
        async with audit(settings.ledger_db, entry) as run:
            purge_id = await _manifest(settings, run.entry_id, operator, plan)
            run.note(purge_id=purge_id)
            await _remove_all(scan, purge_id)
            run.note(purged=len(plan.letters))
    except AuditError as exc:
        raise DlqError(f"nothing was purged: {exc}") from exc
    return PurgeReport(
        plan=plan, purged=len(plan.letters), purge_id=purge_id, audit_id=run.entry_id
    )


async def _manifest(
    settings: HubSettings, audit_id: int, operator: Operator, plan: PurgePlan
) -> int:
    record = PurgeRecord(
        audit_id=audit_id, operator=operator, queue=plan.queue,
        filter=plan.wanted.described(), letters=plan.letters,
    )
    try:
        return await record_purge(settings.ledger_db, record)
    except (LedgerError, TransientError) as exc:
        raise DlqError(
            f"the purge's manifest could not be recorded, so nothing was purged ({exc}); "
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
