"""The ledger's ports: what the writer and ``hub trace`` may ask of it.

Every method is one short transaction of its own; none is ever held across an HTTP call. The
writer's order for one intent is: ``claim`` → ``begin_attempt`` (committed BEFORE the call) →
the API call → ``record_api_call`` → ``finish`` (or ``release_attempt`` when the failure is
known to have had no effect). A call that succeeded is recorded by the ``finish`` itself, in
its commit: one round trip fewer, and a crash before that commit leaves the attempt in doubt,
which reconciliation resolves. Database failures surface as ``TransientError`` (retry later) or
``LedgerError`` (stop); nothing else from the driver leaks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hub.ledger.models import (
    ApiCallRecord,
    Charge,
    ClaimResult,
    Finish,
    IntentClaim,
    IntentRow,
    IntentStory,
    RefKind,
    RetryBudget,
)
from hub.ledger.sheet_steps import SheetProgress, SheetStep


class QueryObserver(Protocol):
    """Told how long each ledger statement took, by a stable name (e.g. ``claim.upsert``).
    Called on failures too; it must not raise."""

    def __call__(self, name: str, duration_s: float) -> None: ...


class Ledger(Protocol):
    """The writer's durable memory: each intent takes effect at most once."""

    async def claim(self, claim: IntentClaim, *, batching_s: float = 0.0) -> ClaimResult:
        """Insert the intent (its first attempt begun, if ``claim.begin_attempt``), or say what
        an earlier delivery of the same key left behind. ``batching_s``: how long the insert may
        wait to be committed with others (the caller is in no hurry)."""
        ...

    async def begin_attempt(self, intent_id: int, *, writer_id: str | None = None) -> int | None:
        """received → attempting, begun by ``writer_id``; the new attempt number, or None if
        another holder has it."""
        ...

    async def record_api_call(self, intent_id: int, call: ApiCallRecord) -> None: ...

    async def release_attempt(
        self, intent_id: int, last_error: str | None, charge: Charge = Charge.COUNTED
    ) -> bool:
        """attempting → received, for a failure known to have had no effect, charged to the
        retry budget as ``charge`` says; False if the intent was not attempting."""
        ...

    async def retry_budget(self, intent_id: int) -> RetryBudget | None:
        """What the intent's retries have used so far; None if there is no such intent."""
        ...

    async def record_sheet_step(self, intent_id: int, step: SheetStep, *, attempt: int) -> None:
        """A sheet.fill's recovery point of ``attempt``, committed before its next call;
        ``NotThisAttempt`` once that attempt is no longer under way (sheet_steps.py)."""
        ...

    async def sheet_progress(self, intent_id: int) -> SheetProgress:
        """What a sheet.fill's recovery points say: the sheet, its fields, those set."""
        ...

    async def sheets_recorded(
        self, office_id: str, sheet_nums: list[int], *, besides: int
    ) -> frozenset[int]:
        """Which of these sheets another fill than intent ``besides`` recorded making."""
        ...

    async def finish(self, intent_id: int, finish: Finish, *, batching_s: float = 0.0) -> bool:
        """Terminal state, vendor refs and the calls to record in one transaction, from received
        or attempting. False if the intent was already finished: then only the calls are
        recorded. ``batching_s`` as for ``claim``."""
        ...

    async def resolve_ref(
        self, vendor: str, office_id: str, kind: RefKind, ref: str
    ) -> int | None: ...

    async def purge_expired(self, now: datetime) -> int:
        """Delete finished intents (and their API calls) expired at ``now``; refs stay."""
        ...


class LedgerTrace(Protocol):
    """Read-only questions for ``hub trace``: from an intent to its rows and back."""

    async def story(self, vendor: str, idempotency_key: str) -> IntentStory | None: ...

    async def intents_for_row(
        self, office_id: str, od_table: str, od_primary_key: int
    ) -> list[IntentRow]:
        """Every intent that created or changed that Open Dental row, oldest first."""
        ...
