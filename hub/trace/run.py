"""The trace's composition: build the ledger and the office audit from the hub's settings and
registry, answer one question, close everything."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from hub.ledger import MySqlLedger
from hub.registry import Registry, load_hub_registry
from hub.settings import HubSettings
from hub.trace.models import IntentTrace, OdRow, RowTrace
from hub.trace.office_log import SqlOfficeAudit
from hub.trace.queries import trace_intent, trace_row
from hub.trace.targets import IntentTarget, RowTarget, TraceError

LEDGER_CONNECTIONS = 2  # one question at a time; the second covers a reconnect


class _Unmeasured:
    """A one-shot command has no metrics endpoint: its query timings go nowhere."""

    def on_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        return None


@asynccontextmanager
async def _ledger(settings: HubSettings) -> AsyncIterator[MySqlLedger]:
    ledger = await MySqlLedger.open(
        settings.ledger_db, retention_days=settings.ledger_retention_days,
        max_connections=LEDGER_CONNECTIONS,
    )
    try:
        yield ledger
    finally:
        await ledger.close()


def _audit(settings: HubSettings, registry: Registry) -> SqlOfficeAudit:
    return SqlOfficeAudit(
        registry.offices, timeout_s=settings.od_sql_timeout_s,
        max_concurrent=settings.od_sql_max_concurrent, observer=_Unmeasured(), tls=settings.tls,
    )


def choose_office(registry: Registry, office_id: str | None) -> str:
    """The office named, which must be in the registry, or else the registry's only office."""
    if office_id is not None:
        return registry.office(office_id).id
    if len(registry.offices) == 1:
        return next(iter(registry.offices))
    known = ", ".join(sorted(registry.offices)) or "none"
    raise TraceError(f"which office? the registry lists {known}: choose one with --office")


async def run_intent_trace(
    settings: HubSettings, environ: Mapping[str, str], target: IntentTarget
) -> IntentTrace | None:
    """``hub trace VENDOR:KEY``: None when the ledger has no such intent."""
    registry = await asyncio.to_thread(load_hub_registry, settings, environ)
    async with _ledger(settings) as ledger:
        return await trace_intent(ledger, _audit(settings, registry), target)


async def run_row_trace(
    settings: HubSettings, environ: Mapping[str, str], target: RowTarget, office_id: str | None
) -> RowTrace:
    """``hub trace --od TABLE:KEY [--office ID]``."""
    registry = await asyncio.to_thread(load_hub_registry, settings, environ)
    row = OdRow(
        office_id=choose_office(registry, office_id), table=target.table,
        primary_key=target.primary_key,
    )
    async with _ledger(settings) as ledger:
        return await trace_row(ledger, _audit(settings, registry), row)
