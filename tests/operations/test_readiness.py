"""/readyz follows the writer's own dependencies, its broker connection, the hub database and the
registry file, naming the one that stopped; an office's Open Dental is none of them."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import httpx
from pydantic import SecretStr

from hub.settings import MySqlSettings
from odsim.config import CustomerConfig, SimConfig
from odsim.server import running_simulator
from tests.operations.support import fast, running_writer
from tests.reliability.proxy import BlockingProxy, blocking_proxy
from tests.support.http_server import until_status
from tests.writer.conftest import MakeWorld
from tests.writer.support import FULL_KEY, World, write_world

CHECKS = {"broker": "ok", "hub_database": "ok", "registry": "ok"}


async def test_readyz_stays_ready_when_an_offices_open_dental_stops(
    make_world: MakeWorld, tmp_path: Path
) -> None:
    # Given the test's office reached through an Open Dental simulator of its own
    world = await make_world()
    async with AsyncExitStack() as own:
        config = SimConfig(customers=(CustomerConfig(key=FULL_KEY, database=world.od_database),))
        sim = await own.enter_async_context(running_simulator(config, port=0))
        moved = fast(write_world(
            tmp_path, api_url=sim.base_url, od_database=world.od_database,
            ledger_db=world.settings.ledger_db, offices=world.offices, vendors=world.vendors,
        ))
        async with running_writer(moved) as writer, httpx.AsyncClient(timeout=10) as http:
            # When that Open Dental stops (an office's server off for the weekend)
            await own.aclose()
            after = await http.get(f"{writer.server.url}/readyz")

    # Then the writer is still ready: its other offices are served, and none is checked
    assert after.status_code == 200, after.text
    assert after.json()["checks"] == CHECKS


async def _ready_blocked_ready(
    world: World, proxy: BlockingProxy
) -> tuple[httpx.Response, httpx.Response, httpx.Response]:
    """/readyz of a running writer before, while and after ``proxy`` blocks its way."""
    async with running_writer(world) as writer, httpx.AsyncClient(timeout=10) as http:
        readyz = f"{writer.server.url}/readyz"
        before = await http.get(readyz)
        try:
            proxy.block()
            down = await until_status(http, readyz, 503)
        finally:
            proxy.unblock()  # a writer cut off for good could not drain
        back = await until_status(http, readyz, 200)
    return before, down, back


async def test_readyz_names_the_hub_database_while_it_cannot_be_reached(
    make_world: MakeWorld, ledger_db: MySqlSettings
) -> None:
    # Given a writer reaching the hub database through a proxy
    async with blocking_proxy(ledger_db.host, ledger_db.port) as (proxy, port):
        world = fast(await make_world(ledger=ledger_db.model_copy(update={"port": port})))
        # When the database cannot be reached, and then can again
        before, down, back = await _ready_blocked_ready(world, proxy)

    # Then the writer was ready, then not, naming the hub database alone, then ready again
    assert before.json()["checks"] == CHECKS
    assert down.json()["failing"] == ["hub_database"]
    assert back.json()["checks"] == CHECKS


async def test_readyz_names_the_broker_while_its_connection_is_closed(
    make_world: MakeWorld,
) -> None:
    # Given a writer reaching the broker through a proxy
    world = fast(await make_world())
    async with blocking_proxy("127.0.0.1", 5672) as (proxy, port):
        url = f"amqp://guest:guest@127.0.0.1:{port}/?reconnect_interval=0.2"
        world.settings = world.settings.model_copy(update={"broker_url": SecretStr(url)})
        # When the broker closes its connection and refuses new ones, and then takes them
        before, down, back = await _ready_blocked_ready(world, proxy)

    # Then the writer was ready, then not, naming the broker alone, then ready again
    assert before.json()["checks"] == CHECKS
    assert down.json()["failing"] == ["broker"]
    assert down.json()["checks"]["broker"] == "ConnectionError"
    assert back.json()["checks"] == CHECKS


async def test_readyz_names_a_registry_file_that_no_longer_loads(make_world: MakeWorld) -> None:
    # Given a running writer
    world = fast(await make_world())
    registry_file = world.settings.registry_path
    text = registry_file.read_text()
    async with running_writer(world) as writer, httpx.AsyncClient(timeout=10) as http:
        readyz = f"{writer.server.url}/readyz"
        # When its registry file is broken (a restart would not start), and then mended
        registry_file.write_text(text + "\n[[offices]]\nid = 'Not An Id'\n")
        broken = await http.get(readyz)
        registry_file.write_text(text)
        mended = await http.get(readyz)

    # Then the writer is not ready while the file is broken, naming the registry alone
    assert broken.status_code == 503
    assert broken.json()["failing"] == ["registry"]
    assert broken.json()["checks"]["registry"] == "RegistryError"
    assert mended.json()["checks"] == CHECKS
