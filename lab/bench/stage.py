"""One scenario's world, built and torn down: ledger, ``hub sim``, registry, broker objects and
vendor user; and ``hub worker`` started on it, ready once it logs that every lane consumes.

Teardown runs in reverse whatever happened: the writer stops first (SIGTERM, it drains), then
the broker objects go, then the simulator and the databases.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from pydantic import SecretStr
from yarl import URL

from hub import names
from hub.broker_admin import ManagementApi, management_api
from hub.broker_connection import robust_channel
from hub.registry import Registry, load_registry
from hub.settings import HubSettings
from hub.topology import declare_exchanges, declare_outcome_queue
from hub.vendor_access import add_vendor
from lab.bench.databases import drop_database, ledger_database
from lab.bench.declare import declare_queues, office_queues
from lab.bench.files import key_variables, write_files
from lab.bench.procs import HUB_ARGV, Child, start_child
from lab.bench.world import BenchWorld

SIM_READY_TIMEOUT_S = 180.0  # Open Dental's tables, and one apikey row per customer key
WRITER_READY_TIMEOUT_S = 120.0  # a thousand queues declared and consumed, in seconds
DELETE_CONCURRENCY = 16
Progress = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Stage:
    world: BenchWorld
    settings: HubSettings  # the writer's: the run's ledger database and registry
    env: Mapping[str, str]  # the writer's environment (the keys the registry names)
    workdir: Path
    sim_root: str  # http://127.0.0.1:<port>, for /admin
    vendor_urls: Mapping[str, SecretStr]  # each vendor's broker login

    @property
    def sim_api(self) -> str:
        return f"{self.sim_root}/api/v1"


@dataclass(frozen=True, kw_only=True)
class WriterProcess:
    child: Child
    startup_s: float  # spawn → every lane consuming
    metrics_url: str  # its /metrics


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_answering(child: Child, url: str, timeout_s: float) -> None:
    give_up_at = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while child.process.returncode is None and time.monotonic() < give_up_at:
            with suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise child.failure(f"did not answer {url}")


async def _delete_queues(api: ManagementApi, queues: list[str]) -> None:
    limit = asyncio.Semaphore(DELETE_CONCURRENCY)

    async def delete(name: str) -> None:
        async with limit:
            await api.delete_queue(name)

    await asyncio.gather(*(delete(name) for name in queues))


async def remove_queues(settings: HubSettings, world: BenchWorld) -> None:
    """The world's office and outcome queues, deleted (again: a missing one is no error)."""
    queues = [names.office_queue(office) for office in world.office_ids()]
    outcomes = [names.outcome_queue(vendor) for vendor in world.vendors()]
    async with management_api(settings) as api:
        await _delete_queues(api, [*queues, *outcomes])


async def _declare_office_queues(settings: HubSettings, world: BenchWorld) -> None:
    limit = settings.office_delivery_limit
    await declare_queues(settings, office_queues(world.office_ids(), limit))


async def declare_world_queues(settings: HubSettings, world: BenchWorld) -> None:
    """The world's office and outcome queues (again, after a writer's run removed them)."""
    await _declare_office_queues(settings, world)
    async with robust_channel(settings.broker_url, settings.tls) as channel:
        for vendor in world.vendors():
            await declare_outcome_queue(channel, vendor)


@asynccontextmanager
async def _broker(
    settings: HubSettings, world: BenchWorld, registry: Registry
) -> AsyncIterator[dict[str, SecretStr]]:
    """The topology (as `hub topology` would) and the vendors' users; removed on exit."""
    password_text = world.vendor_password
    password = SecretStr(password_text)
    broker = URL(settings.broker_url.get_secret_value()).with_password(None)
    async with management_api(settings) as api:
        try:
            async with robust_channel(settings.broker_url, settings.tls) as channel:
                await declare_exchanges(channel)
                for vendor in world.vendors():
                    await add_vendor(api, channel, registry.vendor(vendor), password=password)
            await _declare_office_queues(settings, world)
            yield {
                vendor: SecretStr(str(broker.with_user(vendor).with_password(password_text)))
                for vendor in world.vendors()
            }
        finally:
            for vendor in world.vendors():
                await api.delete_user(vendor)
            await remove_queues(settings, world)


@asynccontextmanager
async def staged(
    world: BenchWorld, settings: HubSettings, workdir: Path, progress: Progress
) -> AsyncIterator[Stage]:
    account = settings.ledger_db
    async with AsyncExitStack() as stack:
        ledger = await stack.enter_async_context(
            ledger_database(account, world.ledger_database)
        )
        registry_path = workdir / "registry.toml"
        variables = key_variables(world)
        started = time.monotonic()
        # The registry names the simulator's URL, so its port is chosen first.
        sim_root = await stack.enter_async_context(_simulator_with_files(world, settings, workdir))
        progress(f"simulator ready with {world.offices} customer key(s) "
                 f"in {time.monotonic() - started:.1f} s")
        registry = await asyncio.to_thread(load_registry, registry_path, variables)
        started = time.monotonic()
        vendor_urls = await stack.enter_async_context(_broker(settings, world, registry))
        progress(f"{world.offices} office queue(s) and {len(vendor_urls)} vendor(s) ready "
                 f"in {time.monotonic() - started:.1f} s")
        writer_settings = settings.model_copy(
            update={"ledger_db": ledger, "registry_path": registry_path}
        )
        yield Stage(
            world=world, settings=writer_settings, env={**os.environ, **variables},
            workdir=workdir, sim_root=sim_root, vendor_urls=vendor_urls,
        )


@asynccontextmanager
async def _simulator_with_files(
    world: BenchWorld, settings: HubSettings, workdir: Path
) -> AsyncIterator[str]:
    port = free_port()
    write_files(world, settings, workdir, api_url=f"http://127.0.0.1:{port}/api/v1")
    argv = [*HUB_ARGV, "sim", "--config", str(workdir / "sim.toml"), "--port", str(port)]
    child = await start_child("hub sim", argv, os.environ, workdir / "sim.log")
    root = f"http://127.0.0.1:{port}"
    try:
        await wait_answering(child, f"{root}/admin/throttle", SIM_READY_TIMEOUT_S)
        yield root
    finally:
        await child.stop()
        await drop_database(settings.ledger_db, world.office_database)


def writer_env(stage: Stage, extra: Mapping[str, str], metrics_port: int) -> dict[str, str]:
    settings = stage.settings
    return {
        **stage.env,
        "HUB_REGISTRY_PATH": str(settings.registry_path),
        "HUB_LEDGER_DB__DATABASE": settings.ledger_db.database,
        "HUB_LOG_FORMAT": "json",
        "HUB_METRICS_HOST": "127.0.0.1",
        "HUB_METRICS_PORT": str(metrics_port),
        **extra,
    }


@asynccontextmanager
async def running_writer(
    stage: Stage, extra_env: Mapping[str, str]
) -> AsyncIterator[WriterProcess]:
    """``hub worker`` on the stage. As it stops, the world's office and outcome queues are
    removed first, so that its drain does not work through what a scenario left queued;
    ``declare_world_queues`` brings them back for another run."""
    log_path = stage.workdir / f"writer-{time.monotonic_ns()}.log"
    env = writer_env(stage, extra_env, free_port())
    child = await start_child("hub worker", [*HUB_ARGV, "worker"], env, log_path)
    metrics_url = f"http://{env['HUB_METRICS_HOST']}:{env['HUB_METRICS_PORT']}/metrics"
    try:
        ready_at = await child.wait_for_line(
            f"consuming {stage.world.offices} office queue(s)", WRITER_READY_TIMEOUT_S
        )
        yield WriterProcess(
            child=child, startup_s=ready_at - child.started_at, metrics_url=metrics_url
        )
    finally:
        await remove_queues(stage.settings, stage.world)
        code = await child.stop()
    if code != 0:  # only reached when the measurement itself went well
        raise child.failure("did not drain cleanly on SIGTERM")
