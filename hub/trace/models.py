"""What a trace finds: the ledger's stories joined with Open Dental's own audit of the row.

Ledger times are UTC. Open Dental stamps ``securitylog.LogDateTime`` with the office server's
local clock and no zone; ``logged_at`` is that moment in UTC as the office's own database converts
it, or None when the conversion could not be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.ledger import IntentStory
from hub.opendental.reconcile_queries import OdTable, SecurityLogEntry


@dataclass(frozen=True, kw_only=True)
class OdRow:
    """One row of an office's Open Dental database."""

    office_id: str
    table: OdTable
    primary_key: int


@dataclass(frozen=True, kw_only=True)
class TimedEntry:
    """One securitylog row about the traced row."""

    entry: SecurityLogEntry
    logged_at: datetime | None  # UTC


@dataclass(frozen=True, kw_only=True)
class OfficeLog:
    """Open Dental's API audit of one row, newest first, or why it could not be read."""

    entries: tuple[TimedEntry, ...] = ()
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class Cause:
    """The hub intent, and its API call, that made one securitylog row."""

    intent_id: int
    vendor: str
    idempotency_key: str
    message_id: str | None
    api_call_id: int


@dataclass(frozen=True, kw_only=True)
class AuditLine:
    timed: TimedEntry
    cause: Cause | None  # None: no intent on record made it (a change outside the hub)


@dataclass(frozen=True, kw_only=True)
class RowAudit:
    """The row's securitylog, newest first, each line with the intent that caused it."""

    lines: tuple[AuditLine, ...] = ()
    error: str | None = None  # the office database could not be read: the ledger side stands


@dataclass(frozen=True, kw_only=True)
class IntentTrace:
    """One intent's whole story, and the Open Dental row it produced or changed."""

    story: IntentStory
    row: OdRow | None  # None: it reached no row (rejected before any call, or failed)
    audit: RowAudit | None  # None exactly when ``row`` is None


@dataclass(frozen=True, kw_only=True)
class RowTrace:
    """Every intent that created or changed one row (oldest first), and the row's audit."""

    row: OdRow
    stories: tuple[IntentStory, ...]
    audit: RowAudit
