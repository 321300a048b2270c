"""/readyz follows the writer's dependencies: it says ready while they answer and names the one
that stopped, without sending Open Dental a request."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import httpx

from odsim.config import CustomerConfig, SimConfig
from odsim.server import running_simulator
from tests.operations.support import fast, running_writer
from tests.writer.conftest import MakeWorld
from tests.writer.support import FULL_KEY, write_world


async def test_readyz_names_an_open_dental_that_stopped(
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
            before = await http.get(f"{writer.server.url}/readyz")
            # When that Open Dental stops
            await own.aclose()
            after = await http.get(f"{writer.server.url}/readyz")
            alive = await http.get(f"{writer.server.url}/healthz")

    # Then the writer was ready, and now is not, naming Open Dental's check only
    assert before.status_code == 200, before.text
    assert after.status_code == 503
    office_check = f"opendental:{world.office}"
    assert after.json()["failing"] == [office_check]
    assert after.json()["checks"][office_check] == "ConnectionRefusedError"
    assert after.json()["checks"]["broker"] == after.json()["checks"]["hub_database"] == "ok"
    # And it is still alive: not ready is not dead
    assert alive.status_code == 200
