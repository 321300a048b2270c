"""sheet.fill: several Open Dental calls, exactly once in effect as a whole.

Open Dental fills a form in calls none of which is idempotent (opendental-api.md §4.7): Sheets
POST makes the sheet, SheetFields GET lists its fields, one SheetFields PUT sets each field.
After each call the writer records a recovery point in the ledger (hub/ledger/sheet_steps.py),
committed before the next call leaves. A writer that stops anywhere leaves the points behind:

- stopped between two calls, the next run starts after the last point, and sends nothing twice;
- stopped after a call but before its point, that one call is in doubt: the attempt stays in
  doubt, and reconciliation (hub/reconcile/sheets.py, read-only SQL) asks Open Dental whether it
  landed and records the point if it did, before the run resumes;
- a run whose writer lost its delivery (another writer took the intent over) may still be going:
  a point is recorded only while its attempt is the one under way, so such a run stops at its
  next point, and another writer reconciles the call in doubt only once the attempt's time limit
  has passed since the last point (hub/writer/reconciling.py).

A recovery point the ledger could not record is treated like a lost reply: the call may have
landed, so the attempt stays in doubt for reconciliation, never resent blindly. Each call has
the attempt's time limit of its own (a fill of 40 fields on a throttled key takes 40 slots).
Every field name is checked against the sheet's own fields before the first field is set, so a
fill refused for a name sets nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from hub.errors import TransientError
from hub.ledger import Ledger
from hub.ledger.sheet_steps import SEQ_FIRST_FIELD, NotThisAttempt, SheetStep
from hub.opendental import Created, Updated, WireBody
from hub.opendental.results import Row
from hub.opendental.sheet_fields import fields_to_set, listed_fields

_T = TypeVar("_T")
SHEET_FILL = "sheet.fill"
class SheetWrites(Protocol):
    async def create_sheet(self, body: WireBody) -> Created: ...
    async def list_sheet_fields(self, sheet_num: int) -> list[Row]: ...
    async def set_sheet_field(self, sheet_field_num: int, value: str) -> Updated: ...


class PointNotRecorded(TransientError):
    """A call took effect but its recovery point could not be committed: the call is in doubt."""


@dataclass(frozen=True, kw_only=True)
class SheetFillRun:
    """One run of one fill: resumes after the intent's last recovery point."""

    ledger: Ledger
    intent_id: int
    fields: Mapping[str, str]  # FieldName -> FieldValue, in the vendor's order
    call_timeout_s: float
    attempt: int | None = None  # the attempt this run is: set once it has begun

    def of_attempt(self, attempt: int) -> SheetFillRun:
        return replace(self, attempt=attempt)

    async def run(self, od: SheetWrites, body: WireBody) -> Created:
        if self.attempt is None:
            raise ValueError("a fill runs as an attempt begun in the ledger")
        progress = await self.ledger.sheet_progress(self.intent_id)
        sheet_num = progress.sheet_num
        if sheet_num is None:
            made = await self._call(od.create_sheet(body))
            sheet_num = made.primary_key
            await self._point(SheetStep.created(sheet_num))
        listed = progress.listed
        if listed is None:
            # A read: safe to repeat, but recorded so the values as made are known to
            # reconciliation (a field still at its value as made was not set).
            listed = listed_fields(await self._call(od.list_sheet_fields(sheet_num)))
            await self._point(SheetStep.fields_listed(sheet_num, listed))
        seq = SEQ_FIRST_FIELD + len(progress.set_fields)
        for field, value in fields_to_set(listed, self.fields):
            if field.name in progress.set_fields:
                continue
            await self._call(od.set_sheet_field(field.sheet_field_num, value))
            await self._point(SheetStep.field_set(seq, sheet_num, field))
            seq += 1
        return Created(table="sheet", primary_key=sheet_num, status=201, body={}, latency_s=0.0)

    async def _call(self, call: Awaitable[_T]) -> _T:
        async with asyncio.timeout(self.call_timeout_s):
            return await call

    async def _point(self, step: SheetStep) -> None:
        assert self.attempt is not None
        try:
            # Shielded: a stop between a call's reply and its point must not lose the point.
            await asyncio.shield(
                self.ledger.record_sheet_step(self.intent_id, step, attempt=self.attempt))
        except NotThisAttempt as exc:
            # Another writer took the intent over (this one lost its delivery): the call just
            # made is the one its reconciliation asks about, and nothing more is sent from here.
            raise PointNotRecorded(
                f"sheet.fill step {step.seq} not recorded: {exc}", maybe_applied=True
            ) from exc
        except TransientError as exc:
            raise PointNotRecorded(
                f"the ledger did not record sheet.fill step {step.seq} ({exc})",
                maybe_applied=True,
            ) from exc
