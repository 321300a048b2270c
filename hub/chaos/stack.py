"""The run's world, brought up and torn down in order: a directory for its files and logs, its
own RabbitMQ node, a throwaway ledger database, the simulator (which creates and seeds the
office databases) on its generated configuration, the generated registry, the topology, the
vendors' broker users with fresh passwords, and the writer under its supervisor.

On exit the writer stops first, then the simulator and the node; the databases and the directory
are removed unless ``keep``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from hub.broker_connection import robust_channel
from hub.chaos.config import ChaosConfig
from hub.chaos.databases import create_database, drop_databases
from hub.chaos.files import registry_toml, secrets_env, sim_config_toml, write_private
from hub.chaos.progress import Progress
from hub.chaos.rabbit_node import NodePorts, RabbitNode
from hub.chaos.simulator import Faults, Simulator
from hub.chaos.world import World
from hub.chaos.writer import WriterSupervisor
from hub.ledger import migrate
from hub.registry import Registry, load_registry
from hub.settings import HubSettings
from hub.topology import declare_topology, topology_for
from hub.vendor_access import add_vendors_with_fresh_passwords


@dataclass(frozen=True, kw_only=True)
class Stack:
    world: World
    home: Path
    settings: HubSettings  # the run's: its broker, management API, ledger and registry
    node: RabbitNode
    simulator: Simulator
    writer: WriterSupervisor
    vendor_urls: dict[str, SecretStr]


def run_settings(settings: HubSettings, world: World, node: RabbitNode, home: Path) -> HubSettings:
    ledger = settings.ledger_db.model_copy(update={"database": world.ledger_database})
    return settings.model_copy(update={
        "broker_url": SecretStr(node.amqp_url), "management_url": node.management_url,
        "management_user": "guest", "management_password": SecretStr("guest"),
        "ledger_db": ledger, "registry_path": home / "registry.toml",
    })


def writer_env(run: HubSettings, world: World, attempt_timeout_s: float) -> dict[str, str]:
    db = run.ledger_db
    return {
        **os.environ,
        "HUB_BROKER_URL": run.broker_url.get_secret_value(),
        "HUB_MANAGEMENT_URL": run.management_url,
        "HUB_LEDGER_DB__HOST": db.host, "HUB_LEDGER_DB__PORT": str(db.port),
        "HUB_LEDGER_DB__USER": db.user, "HUB_LEDGER_DB__PASSWORD": db.password.get_secret_value(),
        "HUB_LEDGER_DB__DATABASE": db.database,
        "HUB_REGISTRY_PATH": str(run.registry_path),
        "HUB_METRICS_PORT": "0",  # a free port: the machine may run other writers
        "HUB_WRITER__ATTEMPT_TIMEOUT_S": str(attempt_timeout_s),
        **secrets_env(world, run),
    }


async def _registry(run: HubSettings, world: World, api_url: str) -> Registry:
    text = registry_toml(world, run, api_url)
    await asyncio.to_thread(write_private, run.registry_path, text)
    registry = await asyncio.to_thread(load_registry, run.registry_path, secrets_env(world, run))
    async with robust_channel(run.broker_url) as channel:
        await declare_topology(channel, topology_for(registry, run.office_delivery_limit))
    return registry


async def _simulator(config: ChaosConfig, world: World, home: Path) -> Simulator:
    text = sim_config_toml(world, config.settings)
    path = await asyncio.to_thread(write_private, home / "sim.toml", text)
    faults = Faults(seed=config.seed, rate_commit_then_drop=config.rate_commit_then_drop,
                    rate_500=config.rate_500)
    return Simulator(path, home / "sim.log", faults)


async def _remove(config: ChaosConfig, world: World, home: Path, progress: Progress) -> None:
    if config.keep:
        progress(f"kept: {home}, databases {world.ledger_database} and "
                 f"{', '.join(world.office_databases())}")
        return
    await drop_databases(config.settings.ledger_db,
                         [world.ledger_database, *world.office_databases()])
    await asyncio.to_thread(shutil.rmtree, home, True)


@asynccontextmanager
async def running_stack(config: ChaosConfig, world: World, progress: Progress
                        ) -> AsyncIterator[Stack]:
    home = Path(tempfile.mkdtemp(prefix=f"hubchaos-{world.run_id}-"))
    async with AsyncExitStack() as stack:
        stack.push_async_callback(_remove, config, world, home, progress)
        node = RabbitNode(world.node_name, home / "rabbitmq", NodePorts.free())
        stack.push_async_callback(node.stop if config.keep else node.discard)
        await node.start()
        progress(f"broker node {node.name} on 127.0.0.1:{node.ports.amqp}")
        run = run_settings(config.settings, world, node, home)
        await create_database(config.settings.ledger_db, world.ledger_database)
        await migrate(run.ledger_db)
        simulator = await _simulator(config, world, home)
        stack.push_async_callback(simulator.stop)
        api_url = await simulator.start()
        progress(f"simulator serving {api_url}, {world.databases} office database(s)")
        registry = await _registry(run, world, api_url)
        urls = await add_vendors_with_fresh_passwords(run, registry.vendors.values())
        env = writer_env(run, world, config.attempt_timeout_s)
        writer = WriterSupervisor(env, home / "writer.log")
        stack.push_async_callback(writer.stop)
        await writer.start()
        progress(f"{len(registry.offices)} offices, {len(urls)} vendors; writer started")
        yield Stack(world=world, home=home, settings=run, node=node, simulator=simulator,
                    writer=writer, vendor_urls=urls)
