"""The run's world, brought up and torn down in order: a directory for its files and logs, its
own RabbitMQ node, a throwaway ledger database, the simulator (which creates and seeds the
office databases) on its generated configuration, the generated registry, the topology, the
vendors' broker users with fresh passwords, and the writers (``--writers``), each under its
supervisor.

A ``StackShape`` changes the common world for a run that needs it (the outage run): the node's
broker settings, offices reached through a ``Forwarder`` each, more writer settings.

On exit the writer stops first, then the forwarders, the simulator and the node; the databases
and the directory are removed unless ``keep``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

from hub.audit import operator_of
from hub.broker_connection import broker_where, robust_channel
from hub.ledger import migrate
from hub.registry import Registry, load_registry
from hub.settings import HubSettings
from hub.topology import declare_topology, topology_for
from hub.vendor_access import add_vendors_with_fresh_passwords
from lab.chaos.config import ChaosConfig
from lab.chaos.databases import check_connections, create_database, drop_databases
from lab.chaos.files import registry_toml, secrets_env, sim_config_toml, write_private
from lab.chaos.fleet import WriterFleet
from lab.chaos.forwarder import Forwarder
from lab.chaos.processes import free_port
from lab.chaos.progress import Progress
from lab.chaos.rabbit_cluster import RabbitCluster
from lab.chaos.rabbit_node import NodePorts, NodeTuning, RabbitNode
from lab.chaos.simulator import Faults, Simulator
from lab.chaos.world import World

CHAOS_OPERATOR = "hub chaos"  # who the run's ledger audits for the vendors it adds


@dataclass(frozen=True, kw_only=True)
class StackShape:
    """What a run changes in the common world; the defaults are the chaos run's."""

    node: NodeTuning = field(default_factory=NodeTuning)
    forwarded: tuple[str, ...] = ()  # offices whose Open Dental is reached through a Forwarder
    writer_env: Mapping[str, str] = field(default_factory=dict)  # on top of the run's own


class RunBroker(Protocol):
    """The run's own broker: one node (``RabbitNode``) or a three-node cluster
    (``RabbitCluster``, ``--cluster``), whose ``restart`` loses one node and brings it back."""

    @property
    def name(self) -> str: ...
    @property
    def amqp_url(self) -> str: ...  # a cluster's: every node's, comma-separated
    @property
    def management_url(self) -> str: ...
    @property
    def next_lost(self) -> str: ...  # the node the next ``restart`` stops
    @property
    def log_file(self) -> Path: ...
    async def start(self) -> None: ...
    async def restart(self) -> None: ...
    async def stop(self) -> None: ...
    async def discard(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Stack:
    world: World
    home: Path
    settings: HubSettings  # the run's: its broker, management API, ledger and registry
    node: RunBroker
    simulator: Simulator
    writer: WriterFleet
    vendor_urls: dict[str, SecretStr]
    forwarders: Mapping[str, Forwarder] = field(default_factory=dict)  # by office

    @property
    def environ(self) -> dict[str, str]:
        """The variables the run's registry names (for the operators' commands)."""
        return secrets_env(self.world, self.settings)


def run_settings(settings: HubSettings, world: World, node: RunBroker, home: Path) -> HubSettings:
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
        # The run declares the office queues; the writer must declare them alike.
        "HUB_OFFICE_DELIVERY_LIMIT": str(run.office_delivery_limit),
        **secrets_env(world, run),
    }


async def _registry(
    run: HubSettings, world: World, api_url: str, forwarders: Mapping[str, Forwarder]
) -> Registry:
    own = {office: _through(api_url, f.port) for office, f in forwarders.items()}
    text = registry_toml(world, run, api_url, own)
    await asyncio.to_thread(write_private, run.registry_path, text)
    registry = await asyncio.to_thread(load_registry, run.registry_path, secrets_env(world, run))
    async with robust_channel(run.broker_url, run.tls) as channel:
        await declare_topology(channel, topology_for(registry, run.office_delivery_limit))
    return registry


def _through(api_url: str, port: int) -> str:
    """``api_url`` with the forwarder's port."""
    return urlsplit(api_url)._replace(netloc=f"127.0.0.1:{port}").geturl()


async def _forwarders(
    offices: tuple[str, ...], api_url: str, exits: AsyncExitStack
) -> dict[str, Forwarder]:
    target = urlsplit(api_url)
    assert target.hostname is not None and target.port is not None
    forwarders = {}
    for office in offices:
        forwarder = Forwarder(port=free_port(), target_host=target.hostname,
                              target_port=target.port)
        exits.push_async_callback(forwarder.close)
        await forwarder.listen()
        forwarders[office] = forwarder
    return forwarders


def connections_needed(config: ChaosConfig) -> int:
    """MariaDB connections the run may hold at once: every writer (a killed one's linger until
    the server notices) with one to each office database and its ledger pool; the simulator and
    the watch one to each office database; a few of the run's own."""
    writers = config.writers + (config.join_at_s is not None)
    per_writer = config.offices + config.settings.writer.ledger_connections
    return writers * per_writer + 2 * config.offices + 20


def _broker(config: ChaosConfig, world: World, home: Path, shape: StackShape) -> RunBroker:
    if config.cluster:
        return RabbitCluster(world.node_name.split("@")[0], home / "rabbitmq", tuning=shape.node)
    return RabbitNode(world.node_name, home / "rabbitmq", NodePorts.free(), shape.node)


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
async def running_stack(
    config: ChaosConfig, world: World, progress: Progress, shape: StackShape | None = None
) -> AsyncIterator[Stack]:
    shape = shape or StackShape()
    await check_connections(config.settings.ledger_db, connections_needed(config))
    home = Path(tempfile.mkdtemp(prefix=f"hubchaos-{world.run_id}-"))
    async with AsyncExitStack() as stack:
        stack.push_async_callback(_remove, config, world, home, progress)
        node = _broker(config, world, home, shape)
        stack.push_async_callback(node.stop if config.keep else node.discard)
        began = asyncio.get_running_loop().time()
        await node.start()
        progress(f"broker {node.name} on {broker_where(SecretStr(node.amqp_url))} (started in "
                 f"{asyncio.get_running_loop().time() - began:.1f} s)")
        run = run_settings(config.settings, world, node, home)
        await create_database(config.settings.ledger_db, world.ledger_database)
        await migrate(run.ledger_db)
        simulator = await _simulator(config, world, home)
        stack.push_async_callback(simulator.stop)
        api_url = await simulator.start()
        progress(f"simulator serving {api_url}, {world.databases} office database(s)")
        forwarders = await _forwarders(shape.forwarded, api_url, stack)
        registry = await _registry(run, world, api_url, forwarders)
        urls = await add_vendors_with_fresh_passwords(
            run, registry.vendors.values(), operator=operator_of(CHAOS_OPERATOR)
        )
        env = {**writer_env(run, world, config.attempt_timeout_s), **shape.writer_env}
        writer = WriterFleet(env, home, writers=config.writers, seed=config.seed)
        stack.push_async_callback(writer.stop)
        await writer.start()
        progress(f"{len(registry.offices)} offices, {len(urls)} vendors; "
                 f"{config.writers} writer(s) started")
        yield Stack(world=world, home=home, settings=run, node=node, simulator=simulator,
                    writer=writer, vendor_urls=urls, forwarders=forwarders)
