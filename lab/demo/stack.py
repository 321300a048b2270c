"""The embedded hub, in this event loop: the ledger migrated, the topology declared, the simulator
serving the registry office's URL, the two vendors' broker users with fresh passwords, and the
writer (what ``hub worker`` runs). On exit the writer drains first, then the simulator stops.
The registry load and the vendor adds are operator actions: audited as the config's operator
("demo"), so ``hub audit`` shows them.

It uses the settings' registry and databases as they are, so ``hub trace`` works after the demo.
"""

from __future__ import annotations

import errno
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from hub import bootstrap
from hub.audit import operator_of
from hub.broker_connection import broker_where, robust_channel
from hub.ledger import migrate
from hub.registry import Office, Registry
from hub.registry.audited import load_audited_registry
from hub.settings import HubSettings
from hub.topology import declare_topology, topology_for
from hub.vendor_access import add_vendors_with_fresh_passwords
from hub.writer.worker import Worker
from lab.demo.config import Cast, DemoConfig, DemoError, SimTarget, StartSimulator

Progress = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Stack:
    registry: Registry
    vendor_urls: Mapping[str, SecretStr]  # each vendor's broker login, this run's password
    writer_id: str  # the writer's, as its broker connection and the ledger name it


def _checked_office(registry: Registry, cast: Cast) -> Office:
    """The cast's office, after checking that the registry can play the script."""
    office = registry.office(cast.office)
    for name in (cast.forms, cast.reminders):
        vendor = registry.vendor(name)
        if cast.office not in vendor.offices:
            raise DemoError(f"vendor {name} has no agreement for {cast.office} in the registry")
        if cast.foreign_office in vendor.offices:
            raise DemoError(f"vendor {name} must have no agreement for {cast.foreign_office}")
    return office


def sim_target(
    settings: HubSettings, office: Office, tls: ssl.SSLContext | None = None
) -> SimTarget:
    """The simulator that answers for ``office``: its API URL's host and port, its database;
    over https (with ``tls``, the server's context) when the URL says so."""
    url = urlsplit(office.api_url)
    if url.scheme not in ("http", "https") or url.hostname is None:
        raise DemoError(f"office {office.id}'s api_url {office.api_url} is not a local URL")
    if (url.scheme == "https") != (tls is not None):
        raise DemoError(f"office {office.id}'s api_url {office.api_url}: the simulator serves "
                        f"{'https' if tls else 'http'} in this run")
    return SimTarget(
        host=url.hostname, port=url.port or (443 if tls else 80), database=office.db.database,
        developer_key=office.developer_key or settings.od_developer_key,
        customer_key=office.customer_key, tls=tls,
    )


@asynccontextmanager
async def _simulator(start: StartSimulator, target: SimTarget) -> AsyncIterator[str]:
    started = False
    try:
        async with start(target) as base_url:
            started = True
            yield base_url
    except OSError as exc:
        if started or exc.errno != errno.EADDRINUSE:
            raise
        raise DemoError(
            f"cannot start the simulator: {target.host}:{target.port} is taken. Is a `hub sim` "
            "running? Stop it: `hub demo` serves the registry office's URL itself."
        ) from exc


@asynccontextmanager
async def _writer(
    settings: HubSettings, registry: Registry, metrics: CollectorRegistry | None
) -> AsyncIterator[str]:
    """The writer running; yields its id."""
    async with bootstrap.writer(settings, registry, metrics_registry=metrics) as parts:
        worker = Worker(parts)
        try:
            await worker.start()
            yield parts.control.writer_id
        finally:
            await worker.drain()


@asynccontextmanager
async def running_stack(
    config: DemoConfig, start_simulator: StartSimulator, progress: Progress
) -> AsyncIterator[Stack]:
    settings = config.settings
    await migrate(settings.ledger_db)
    progress(f"ledger migrated (database {settings.ledger_db.database})")
    operator = operator_of(config.operator)
    registry = await load_audited_registry(settings, config.environ, operator, command="hub demo")
    office = _checked_office(registry, config.cast)
    if config.tls is not None:
        registry = config.tls.registry(registry, office.id)
        office = registry.office(office.id)
        progress(f"every link over TLS with the CA in {config.tls.directory}: vendors and the "
                 f"writer on AMQPS ({broker_where(settings.broker_url)}), MariaDB's TLS, "
                 "Open Dental on https")
    async with robust_channel(settings.broker_url, settings.tls) as channel:
        await declare_topology(channel, topology_for(registry, settings.office_delivery_limit))
    progress(f"topology declared for {len(registry.offices)} office(s)")
    async with AsyncExitStack() as stack:
        target = sim_target(
            settings, office, None if config.tls is None else config.tls.server_context()
        )
        sim_url = await stack.enter_async_context(_simulator(start_simulator, target))
        progress(f"simulator serving {sim_url} (database {target.database})")
        vendors = (registry.vendor(name) for name in (config.cast.forms, config.cast.reminders))
        urls = await add_vendors_with_fresh_passwords(settings, vendors, operator=operator)
        progress(f"vendor users {', '.join(urls)} ready, with fresh passwords")
        writer_id = await stack.enter_async_context(
            _writer(settings, registry, config.metrics_registry)
        )
        progress("writer consuming")
        yield Stack(registry=registry, vendor_urls=urls, writer_id=writer_id)
        progress("stopping: writer draining, then the simulator")
