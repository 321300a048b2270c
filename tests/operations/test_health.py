"""/healthz follows the writer's lanes: a lane stuck on one delivery, or one that stopped while
the writer runs, fails it naming the office; ``hub check`` on a real ``hub worker`` reads the
same endpoints."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from aio_pika.abc import AbstractRobustChannel
from aiohttp import web

from hub.settings import HealthSettings, MySqlSettings
from tests.operations.support import fast, hub_sql, publish, running_writer, vendor_channel
from tests.reliability.proxy import free_port
from tests.support.http_server import serving_app, until_status
from tests.support.hub_check import hub_check
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    GUARD_S,
    dead_letter_tap,
    drain,
    letters,
    patient_create,
    unique,
)
from tests.writer.test_shutdown import HUB, worker_environment

# The held request must end by the test's release, never by the attempt's own timeout.
PATIENT_WRITER = FAST_WRITER.model_copy(update={"attempt_timeout_s": GUARD_S})


class _HeldOpenDental:
    """An office's Open Dental that holds its first request until released, then refuses every
    request as invalid (so the intent is rejected and its lane waits for work again)."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, _request: web.Request) -> web.Response:
        if not self.arrived.is_set():
            self.arrived.set()
            await self.release.wait()
        return web.json_response("LName is invalid.", status=400)


@asynccontextmanager
async def _held_open_dental() -> AsyncIterator[tuple[_HeldOpenDental, str]]:
    held = _HeldOpenDental()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", held.handle)
    async with serving_app(app) as root:
        try:
            yield held, f"{root}/api/v1"
        finally:
            held.release.set()


async def test_a_lane_stuck_on_one_delivery_fails_healthz_naming_its_office(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given a writer whose lanes may work on one delivery for 0.2 s, and an office whose Open
    # Dental holds its request
    async with _held_open_dental() as (held, api_url):
        world = fast(await make_world(api_url=api_url, writer=PATIENT_WRITER))
        health = HealthSettings(lane_busy_limit_s=0.2)
        world.settings = world.settings.model_copy(update={"health": health})
        taps = await dead_letter_tap(hub_channel, world.office)
        async with running_writer(world) as writer, vendor_channel(
            world.settings, world.vendor
        ) as channel, httpx.AsyncClient(timeout=10) as http:
            healthz = f"{writer.server.url}/healthz"
            before = await http.get(healthz)
            # When the office's lane sends it an intent
            await publish(channel, world.vendor.name, patient_create(world.office, unique("k"),
                                                                     last=letters()))
            async with asyncio.timeout(GUARD_S):
                await held.arrived.wait()
            stuck = await until_status(http, healthz, 503)
            # And Open Dental answers at last (the intent is rejected)
            held.release.set()
            await drain(taps, 1)
            free = await until_status(http, healthz, 200)

    # Then the writer was alive, then not while the lane was stuck, naming its office
    assert before.status_code == 200, before.text
    lane = f"lane:{world.office}"
    assert stuck.json()["failing"] == [lane]
    assert stuck.json()["checks"][lane].startswith("busy on one delivery for ")
    # And alive again once the lane was done with the delivery
    assert free.json()["failing"] == []


async def test_a_lane_that_stopped_while_the_writer_runs_fails_healthz(
    make_world: MakeWorld, ledger_db: MySqlSettings
) -> None:
    # Given a running writer
    world = fast(await make_world())
    async with running_writer(world) as writer, vendor_channel(
        world.settings, world.vendor
    ) as channel, httpx.AsyncClient(timeout=10) as http:
        healthz = f"{writer.server.url}/healthz"
        before = await http.get(healthz)
        # When the ledger refuses for good (its intents table is gone), which ends the lane
        await hub_sql(ledger_db, "RENAME TABLE intents TO intents_gone")
        await publish(channel, world.vendor.name, patient_create(world.office, unique("k"),
                                                                 last=letters()))
        gone = await until_status(http, healthz, 503)

    # Then the writer was alive, and is not once that lane has ended, naming its office
    assert before.status_code == 200, before.text
    lane = f"lane:{world.office}"
    assert gone.json()["failing"] == [lane]
    assert gone.json()["checks"][lane] == "ended while the writer runs"


async def test_hub_check_reads_a_running_hub_worker(make_world: MakeWorld) -> None:
    # Given `hub worker` as a process of its own, serving on a port of its settings
    world = await make_world()
    port = free_port()
    env = {**worker_environment(world), "HUB_METRICS_PORT": str(port)}
    registry_file = world.settings.registry_path
    process = await asyncio.create_subprocess_exec(
        *HUB, "worker", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            await until_status(http, f"http://127.0.0.1:{port}/readyz", 200)
        # When `hub check` runs with the worker's settings
        healthy = await hub_check(env=env)
        # And again once the worker's registry file no longer loads
        registry_file.write_text(registry_file.read_text() + "\n[[offices]]\nid = 'Bad Id'\n")
        broken = await hub_check(env=env)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(GUARD_S):
            await process.wait()

    # Then it said ok, and then named the registry, exiting 1
    assert (healthy.code, healthy.lines) == (0, ["ok"])
    assert (broken.code, broken.lines) == (1, ["readyz: registry: RegistryError"])
