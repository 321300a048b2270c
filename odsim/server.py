"""Run the simulator: prepare the office databases, serve the API on a real TCP port.

``running_simulator`` is what tests and embedders use; ``serve`` is what ``hub sim`` runs. Given
a server certificate, the API is served over https, as a real office's API Service behind TLS.
"""

from __future__ import annotations

import asyncio
import signal
import ssl
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from odsim.app import build_app
from odsim.auth import API_PREFIX
from odsim.config import SimConfig
from odsim.db import DbParams, OfficePools
from odsim.faults import FaultConfig, FaultController
from odsim.outages import OutageController
from odsim.schema import ensure_office_database

SHUTDOWN_TIMEOUT_S = 2.0


@dataclass(frozen=True, kw_only=True)
class SimHandle:
    base_url: str  # e.g. "http://127.0.0.1:40123/api/v1" (https:// when served over TLS)
    faults: FaultController
    outages: OutageController
    config: SimConfig

    def set_faults(self, faults: FaultConfig) -> None:
        self.faults.set(faults)


def server_tls(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A server context for https: TLS 1.2 at least, the certificate and its key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file))
    return context


async def _prepare_database(
    config: SimConfig, db: DbParams, database: str, *, reset: bool
) -> None:
    keys_by_dev: dict[str, list[str]] = defaultdict(list)
    for customer in config.customers:
        if customer.database == database:
            keys_by_dev[config.developer_name_for(customer)].append(customer.key)
    for index, (dev_name, keys) in enumerate(keys_by_dev.items()):
        await ensure_office_database(
            db, database, dev_name=dev_name, customer_keys=keys, reset=reset and index == 0,
            readonly_user=config.readonly_user, readonly_password=config.readonly_password,
        )


async def prepare_databases(config: SimConfig, db: DbParams, *, reset: bool = False) -> None:
    """Create and seed every office database the customer keys name (one per database)."""
    databases = sorted({customer.database for customer in config.customers})
    await asyncio.gather(
        *(_prepare_database(config, db, name, reset=reset) for name in databases)
    )


@asynccontextmanager
async def running_simulator(
    config: SimConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    db: DbParams | None = None,
    reset: bool = False,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[SimHandle]:
    """Ensure the databases, serve the API in this event loop (over https with ``tls``, a
    ``server_tls`` context), and yield where it listens."""
    db = db or DbParams()
    await prepare_databases(config, db, reset=reset)
    pools = OfficePools(db)
    faults = FaultController(config.faults)
    outages = OutageController(customer.key for customer in config.customers)
    runner = web.AppRunner(
        build_app(config, pools, faults, outages), access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, ssl_context=tls).start()
        bound_port = runner.addresses[0][1]
        scheme = "http" if tls is None else "https"
        yield SimHandle(
            base_url=f"{scheme}://{host}:{bound_port}{API_PREFIX}", faults=faults, outages=outages,
            config=config,
        )
    finally:
        await runner.cleanup()
        await pools.close()


async def serve(
    config: SimConfig,
    *,
    host: str,
    port: int,
    db: DbParams,
    reset: bool,
    on_ready: Callable[[str], None],
    tls: ssl.SSLContext | None = None,
) -> None:
    """Run until SIGINT or SIGTERM; ``on_ready`` gets the base URL once the port is open."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_simulator(
        config, host=host, port=port, db=db, reset=reset, tls=tls
    ) as handle:
        on_ready(handle.base_url)
        await stop.wait()
