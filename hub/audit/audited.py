"""An operator action, audited: the entry is committed before the action runs, and its result
is recorded after.

    async with audit(settings.ledger_db, entry) as run:
        ...the action...
        run.note(removed=True)        # what it did, for the row's outcome

If the entry cannot be written, ``AuditError`` is raised before the block runs: the action is
not done. The block ends ``ok``, or ``failed`` with the class of the exception that left it (the
exception goes on) or the code given to ``run.fail``. If the result cannot be recorded, the
action stays done and its row ``pending``; a warning says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from hub.audit.model import AuditEntry, AuditResult, AuditTrail, JsonValue
from hub.audit.mysql_trail import mysql_trail
from hub.errors import HubError
from hub.settings import MySqlSettings

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Run:
    """An action under way: what it reports for its row."""

    entry_id: int
    outcome: dict[str, JsonValue] = field(default_factory=dict)
    failure: str | None = None  # set by ``fail``: it ended without raising, but not done

    def note(self, **values: JsonValue) -> None:
        self.outcome.update(values)

    def fail(self, code: str) -> None:
        self.failure = code


def error_code(exc: BaseException) -> str:
    """A short code for how an action failed: the exception's class, never its message."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return type(exc).__name__


@asynccontextmanager
async def audited(trail: AuditTrail, entry: AuditEntry) -> AsyncIterator[Run]:
    """Begin ``entry`` (committed) before the block, record its result after."""
    run = Run(entry_id=await trail.begin(entry))
    try:
        yield run
    except BaseException as exc:
        await _finish(trail, run, AuditResult.FAILED, error_code(exc))
        raise
    if run.failure is None:
        await _finish(trail, run, AuditResult.OK, None)
    else:
        await _finish(trail, run, AuditResult.FAILED, run.failure)


@asynccontextmanager
async def audit(settings: MySqlSettings, entry: AuditEntry) -> AsyncIterator[Run]:
    """``audited`` on the trail of the hub database at ``settings``."""
    async with mysql_trail(settings) as trail, audited(trail, entry) as run:
        yield run


async def _finish(trail: AuditTrail, run: Run, result: AuditResult, error: str | None) -> None:
    try:
        await trail.finish(run.entry_id, result, error=error, outcome=run.outcome)
    except HubError as exc:
        log.warning(
            "audit entry %d: the action ended %s, but its result could not be recorded (%s); "
            "the entry stays pending", run.entry_id, result.value, exc,
        )
