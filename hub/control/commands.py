"""The operators' side: ``hub office pause|resume ID`` and ``hub vendor pause|resume NAME``.

Each is audited (``office_pause`` ... ``vendor_resume``): the entry is committed before anything
changes. A pause is recorded first, with who and why, and every writer holds the paused office's
or vendor's messages within about one poll; a vendor's pause then makes the broker refuse its new
publishes. Resuming undoes the broker's refusal first, then lifts the pause. Nothing is lost:
held messages stay unacked in their lanes, refused ones with the vendor's publisher.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from hub.audit import AuditAction, AuditEntry, Operator, Run, audit
from hub.broker_admin import management_api
from hub.control.model import PauseKind
from hub.control.store import ControlStore
from hub.control.vendor_publishes import accept_publishes, is_vendor_user, refuse_publishes
from hub.ledger import migrate
from hub.ledger.mysql_session import ignore_query
from hub.registry import Registry, load_hub_registry
from hub.settings import HubSettings


@dataclass(frozen=True, kw_only=True)
class Who:
    operator: str  # the operator's name, shown by hub status
    reason: str | None
    os_user: str | None = None  # the OS user running the command, for the audit trail

    @property
    def audited_as(self) -> Operator:
        return Operator(os_user=self.os_user, name=self.operator)


@dataclass(frozen=True, kw_only=True)
class PauseResult:
    kind: PauseKind
    name: str
    changed: bool  # False: it was already paused (or not paused, for a resume)
    broker: bool = False  # a vendor's broker user exists and its publishes were switched
    connections_closed: int = 0


async def pause_office(
    settings: HubSettings, environ: Mapping[str, str], office: str, who: Who
) -> PauseResult:
    async with _audited(settings, AuditAction.OFFICE_PAUSE, office, who) as run:
        (await _registry(settings, environ)).office(office)
        changed = await _record(settings, PauseKind.OFFICE, office, who, pause=True)
        run.note(changed=changed)
    return PauseResult(kind=PauseKind.OFFICE, name=office, changed=changed)


async def resume_office(
    settings: HubSettings, environ: Mapping[str, str], office: str, who: Who
) -> PauseResult:
    async with _audited(settings, AuditAction.OFFICE_RESUME, office, who) as run:
        (await _registry(settings, environ)).office(office)
        changed = await _record(settings, PauseKind.OFFICE, office, who, pause=False)
        run.note(changed=changed)
    return PauseResult(kind=PauseKind.OFFICE, name=office, changed=changed)


async def pause_vendor(
    settings: HubSettings, environ: Mapping[str, str], vendor: str, who: Who
) -> PauseResult:
    async with _audited(settings, AuditAction.VENDOR_PAUSE, vendor, who) as run:
        (await _registry(settings, environ)).vendor(vendor)
        changed = await _record(settings, PauseKind.VENDOR, vendor, who, pause=True)
        async with management_api(settings) as api:
            broker = await is_vendor_user(api, vendor)
            closed = 0
            if broker:
                recheck_s = settings.control.vendor_recheck_s
                closed = await refuse_publishes(api, vendor, recheck_s=recheck_s)
        run.note(changed=changed, broker=broker, connections_closed=closed)
    return PauseResult(
        kind=PauseKind.VENDOR, name=vendor, changed=changed, broker=broker,
        connections_closed=closed,
    )


async def resume_vendor(
    settings: HubSettings, environ: Mapping[str, str], vendor: str, who: Who
) -> PauseResult:
    async with _audited(settings, AuditAction.VENDOR_RESUME, vendor, who) as run:
        known = (await _registry(settings, environ)).vendor(vendor)
        async with management_api(settings) as api:
            broker = await is_vendor_user(api, vendor)
            if broker:
                await accept_publishes(api, known)
        changed = await _record(settings, PauseKind.VENDOR, vendor, who, pause=False)
        run.note(changed=changed, broker=broker)
    return PauseResult(kind=PauseKind.VENDOR, name=vendor, changed=changed, broker=broker)


@asynccontextmanager
async def _audited(
    settings: HubSettings, action: AuditAction, name: str, who: Who
) -> AsyncIterator[Run]:
    """The hub database migrated (as these commands always did), then the action audited."""
    await migrate(settings.ledger_db)
    entry = AuditEntry(
        operator=who.audited_as, action=action, target=name, details={"reason": who.reason}
    )
    async with audit(settings.ledger_db, entry) as run:
        yield run


async def _registry(settings: HubSettings, environ: Mapping[str, str]) -> Registry:
    return await asyncio.to_thread(load_hub_registry, settings, environ)


async def _record(
    settings: HubSettings, kind: PauseKind, name: str, who: Who, *, pause: bool
) -> bool:
    store = await ControlStore.open(settings.ledger_db, on_query=ignore_query, max_connections=1)
    try:
        if pause:
            return await store.pause(kind, name, who.operator, who.reason)
        return await store.resume(kind, name, who.operator, who.reason)
    finally:
        await store.close()
