"""Which Open Dental rows the ledger already credits to an intent's create.

A row another intent is recorded as having created cannot be the one this attempt lost, however
well its natural keys fit (a vendor may well book the same patient twice on purpose).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hub.ledger import IntentStatus, LedgerTrace

# Contract names are "<resource>.<action>"; these actions make a new row.
CREATE_ACTIONS = (".create", ".upload", ".refund", ".fill")


class KnownRows(Protocol):
    """The ledger's side of reconciliation, one question."""

    async def creators(self, office_id: str, od_table: str, od_primary_key: int) -> frozenset[int]:
        """The ids of the intents recorded as having created that row (usually none or one)."""
        ...

    async def changed_since(
        self, office_id: str, od_table: str, od_primary_key: int, *, since: datetime,
        besides: int, contracts: frozenset[str],
    ) -> frozenset[int]:
        """The ids of the intents of ``contracts`` but ``besides`` applied to that row that
        finished at or after ``since`` (the ledger's clock)."""
        ...


class LedgerKnownRows:
    """``KnownRows`` over the ledger's trace of a row."""

    def __init__(self, ledger: LedgerTrace) -> None:
        self._ledger = ledger

    async def creators(self, office_id: str, od_table: str, od_primary_key: int) -> frozenset[int]:
        # Only creates count: an update that later changed the row (a vendor may name a PatNum
        # it read from Open Dental) says nothing about who made it.
        rows = await self._ledger.intents_for_row(office_id, od_table, od_primary_key)
        return frozenset(row.id for row in rows if row.contract.endswith(CREATE_ACTIONS))

    async def changed_since(
        self, office_id: str, od_table: str, od_primary_key: int, *, since: datetime,
        besides: int, contracts: frozenset[str],
    ) -> frozenset[int]:
        rows = await self._ledger.intents_for_row(office_id, od_table, od_primary_key)
        return frozenset(
            row.id for row in rows
            if row.id != besides and row.contract in contracts
            and row.status == IntentStatus.APPLIED
            and row.finished_at is not None and row.finished_at >= since
        )
