"""Which Open Dental rows the ledger already credits to an intent's create.

A row another intent is recorded as having created cannot be the one this attempt lost, however
well its natural keys fit (a vendor may well book the same patient twice on purpose).
"""

from __future__ import annotations

from typing import Protocol

from hub.ledger import LedgerTrace

# Contract names are "<resource>.<action>"; these actions make a new row.
CREATE_ACTIONS = (".create", ".upload", ".fill")


class KnownRows(Protocol):
    """The ledger's side of reconciliation, one question."""

    async def creators(self, office_id: str, od_table: str, od_primary_key: int) -> frozenset[int]:
        """The ids of the intents recorded as having created that row (usually none or one)."""
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
