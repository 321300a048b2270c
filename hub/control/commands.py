"""The operators' side: ``hub office pause|resume ID`` and ``hub vendor pause|resume NAME``.

A pause is recorded first, with who and why, and every writer holds the paused office's or
vendor's messages within about one poll; a vendor's pause then makes the broker refuse its new
publishes. Resuming undoes the broker's refusal first, then lifts the pause. Nothing is lost:
held messages stay unacked in their lanes, refused ones with the vendor's publisher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

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
    operator: str
    reason: str | None


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
    (await _registry(settings, environ)).office(office)
    changed = await _record(settings, PauseKind.OFFICE, office, who, pause=True)
    return PauseResult(kind=PauseKind.OFFICE, name=office, changed=changed)


async def resume_office(
    settings: HubSettings, environ: Mapping[str, str], office: str, who: Who
) -> PauseResult:
    (await _registry(settings, environ)).office(office)
    changed = await _record(settings, PauseKind.OFFICE, office, who, pause=False)
    return PauseResult(kind=PauseKind.OFFICE, name=office, changed=changed)


async def pause_vendor(
    settings: HubSettings, environ: Mapping[str, str], vendor: str, who: Who
) -> PauseResult:
    (await _registry(settings, environ)).vendor(vendor)
    changed = await _record(settings, PauseKind.VENDOR, vendor, who, pause=True)
    async with management_api(settings) as api:
        if not await is_vendor_user(api, vendor):
            return PauseResult(kind=PauseKind.VENDOR, name=vendor, changed=changed)
        closed = await refuse_publishes(api, vendor, recheck_s=settings.control.vendor_recheck_s)
    return PauseResult(
        kind=PauseKind.VENDOR, name=vendor, changed=changed, broker=True,
        connections_closed=closed,
    )


async def resume_vendor(
    settings: HubSettings, environ: Mapping[str, str], vendor: str, who: Who
) -> PauseResult:
    known = (await _registry(settings, environ)).vendor(vendor)
    async with management_api(settings) as api:
        broker = await is_vendor_user(api, vendor)
        if broker:
            await accept_publishes(api, known)
    changed = await _record(settings, PauseKind.VENDOR, vendor, who, pause=False)
    return PauseResult(kind=PauseKind.VENDOR, name=vendor, changed=changed, broker=broker)


async def _registry(settings: HubSettings, environ: Mapping[str, str]) -> Registry:
    return await asyncio.to_thread(load_hub_registry, settings, environ)


async def _record(
    settings: HubSettings, kind: PauseKind, name: str, who: Who, *, pause: bool
) -> bool:
    await migrate(settings.ledger_db)
    store = await ControlStore.open(settings.ledger_db, on_query=ignore_query, max_connections=1)
    try:
        if pause:
            return await store.pause(kind, name, who.operator, who.reason)
        return await store.resume(kind, name, who.operator, who.reason)
    finally:
        await store.close()
