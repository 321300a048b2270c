"""Writer fixtures: a real simulator (a throwaway Open Dental database, three customer keys), a
throwaway migrated ledger, the broker's management API, and ``make_world`` for unique offices
and vendors (real broker users) that are deleted after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from aio_pika.abc import AbstractRobustChannel
from pydantic import SecretStr

from hub import names
from hub.broker_admin import ManagementApi, management_api
from hub.broker_connection import robust_channel
from hub.ledger import MySqlLedger, migrate
from hub.registry import V1_CONTRACTS
from hub.settings import HubSettings, MySqlSettings, WriterSettings
from hub.topology import declare_exchanges, declare_topology, topology_for
from hub.vendor_access import add_vendor
from odsim.config import ApiMode as SimMode
from odsim.config import CustomerConfig, SimConfig
from odsim.server import SimHandle, running_simulator
from odsim.throttle import ThrottleConfig
from tests.support.mariadb import ROOT, throwaway_database
from tests.writer.support import (
    DISABLED_KEY,
    FAST_WRITER,
    FULL_KEY,
    REMOTE_KEY,
    SLOW_KEY,
    OfficeSpec,
    VendorSpec,
    World,
    unique,
    write_world,
)

MakeWorld = Callable[..., Awaitable[World]]


@pytest.fixture
async def ledger_db() -> AsyncIterator[MySqlSettings]:
    async with throwaway_database("tw") as name:
        settings = MySqlSettings(
            host=ROOT.host, port=ROOT.port, user=ROOT.user, password=ROOT.password, database=name
        )
        await migrate(settings)
        yield settings


@pytest.fixture
async def ledger(ledger_db: MySqlSettings) -> AsyncIterator[MySqlLedger]:
    """The test's own view of the writer's ledger, to read intents' stories."""
    opened = await MySqlLedger.open(ledger_db, max_connections=2)
    yield opened
    await opened.close()


@pytest.fixture
async def simulator(empty_database: str) -> AsyncIterator[SimHandle]:
    config = SimConfig(
        customers=(
            CustomerConfig(key=FULL_KEY, database=empty_database),
            CustomerConfig(key=SLOW_KEY, database=empty_database),
            CustomerConfig(key=DISABLED_KEY, database=empty_database, enabled=False),
            CustomerConfig(key=REMOTE_KEY, database=empty_database, mode=SimMode.REMOTE),
        ),
        throttle=ThrottleConfig(interval_s=0.3),
    )
    async with running_simulator(config, port=0) as sim:
        yield sim


@pytest.fixture
async def management() -> AsyncIterator[ManagementApi]:
    async with management_api(HubSettings()) as api:
        yield api


@pytest.fixture
async def hub_channel() -> AsyncIterator[AbstractRobustChannel]:
    """The test's own (guest) channel, for outcome drains and dead-letter taps."""
    async with robust_channel(HubSettings().broker_url) as channel:
        await declare_exchanges(channel)
        yield channel


@pytest.fixture
async def make_world(
    tmp_path: Path,
    simulator: SimHandle,
    empty_database: str,
    ledger_db: MySqlSettings,
    management: ManagementApi,
    hub_channel: AbstractRobustChannel,
) -> AsyncIterator[MakeWorld]:
    """Offices (one per customer key given) and vendors with an agreement for every office."""
    offices: list[str] = []
    vendors: list[str] = []

    async def make(
        keys: Sequence[str] = (FULL_KEY,),
        *,
        contracts: Sequence[str] = tuple(sorted(V1_CONTRACTS)),
        vendor_count: int = 1,
        writer: WriterSettings = FAST_WRITER,
        api_url: str | None = None,  # another way to the simulator (a proxy), for every office
        ledger: MySqlSettings | None = None,  # another way to the test's ledger (a proxy)
        od_db_port: int = ROOT.port,  # another way to the office's database (a proxy)
        od_db_login: tuple[str, str] = ("od_readonly", "od_readonly"),  # its read-only account
    ) -> World:
        office_specs = [OfficeSpec(id=unique("t-office"), customer_key=key) for key in keys]
        agreements = {office.id: tuple(contracts) for office in office_specs}
        vendor_specs = [
            VendorSpec(name=unique("t-vendor"), agreements=agreements, password=unique("pw-long"))
            for _ in range(vendor_count)
        ]
        offices.extend(office.id for office in office_specs)
        vendors.extend(vendor.name for vendor in vendor_specs)
        world = write_world(
            tmp_path, api_url=api_url or simulator.base_url, od_database=empty_database,
            ledger_db=ledger or ledger_db, offices=office_specs, vendors=vendor_specs,
            writer=writer, od_db_port=od_db_port,
            od_db_user=od_db_login[0], od_db_password=od_db_login[1],
        )
        await _prepare_broker(world, management, hub_channel)
        return world

    yield make
    # The hub channel goes first: a robust channel the broker closed reopens by itself and
    # declares again the queues it declared, which could bring a deleted queue back.
    await hub_channel.close()
    # Through the management API: a test may leave its AMQP channels closed by the broker.
    for office in offices:
        await management.delete_queue(names.office_queue(office))
    for vendor in vendors:
        await management.delete_user(vendor)
        await management.delete_queue(names.outcome_queue(vendor))


async def _prepare_broker(
    world: World, management: ManagementApi, channel: AbstractRobustChannel
) -> None:
    """As an operator would before any vendor publishes (`hub topology`, `hub vendor add`): a
    message sent before its office queue exists is unroutable, and lost."""
    topology = topology_for(world.registry, world.settings.office_delivery_limit)
    await declare_topology(channel, topology)
    for vendor in world.vendors:
        password = SecretStr(vendor.password)
        await add_vendor(management, channel, world.registry.vendor(vendor.name), password=password)
