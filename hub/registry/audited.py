"""A registry loaded to act on, audited: ``hub worker`` at start (the agreements it enforces),
``hub topology`` (the queues it declares), ``hub vendor add`` (the broker permissions it sets)
and the lab's runs. Every such load writes a ``registry_load`` entry with the file's SHA-256,
committed before the registry is checked and used; a change shows as a new hash. Loads that only
look (``hub vendor list``, ``hub trace``, the pause commands' name checks, ``/readyz``) are not
operator actions and write nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from hub.audit import AuditAction, AuditEntry, Operator, audit
from hub.registry.loader import read_registry, registry_from, settings_env
from hub.registry.model import Registry
from hub.settings import HubSettings


async def load_audited_registry(
    settings: HubSettings, environ: Mapping[str, str], operator: Operator, *, command: str
) -> Registry:
    """The registry at ``settings.registry_path``, as ``load_hub_registry`` loads it, audited
    as a ``registry_load`` by ``command``. A file that cannot be read is refused before the
    trail (there is no hash to record); an invalid one is recorded as failed."""
    source = await asyncio.to_thread(read_registry, settings.registry_path)
    entry = AuditEntry(
        operator=operator,
        action=AuditAction.REGISTRY_LOAD,
        target=str(source.path.absolute()),
        details={"sha256": source.sha256, "command": command},
    )
    async with audit(settings.ledger_db, entry) as run:
        registry = await asyncio.to_thread(
            registry_from, source, settings_env(settings, environ)
        )
        run.note(offices=len(registry.offices), vendors=len(registry.vendors))
    return registry
