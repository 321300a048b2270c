"""``hub worker`` as a process: SIGTERM drains (the message in flight finishes, the ones behind it
stay in the queue), the process exits 0, and its JSON logs name ids, never patient data."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub.ledger import MySqlLedger
from odsim.faults import FaultConfig, InjectedFault
from odsim.server import SimHandle
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FULL_KEY,
    GUARD_S,
    World,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)

HUB = (sys.executable, "-c", "from hub.cli import main; main()")


def worker_environment(world: World) -> dict[str, str]:
    ledger = world.settings.ledger_db
    return {
        **os.environ,
        **world.environ,
        "HUB_REGISTRY_PATH": str(world.settings.registry_path),
        "HUB_LEDGER_DB__HOST": ledger.host,
        "HUB_LEDGER_DB__PORT": str(ledger.port),
        "HUB_LEDGER_DB__USER": ledger.user,
        "HUB_LEDGER_DB__DATABASE": ledger.database,
        "HUB_LOG_FORMAT": "json",
        "HUB_WRITER__DRAIN_GRACE_S": "20",
        "HUB_METRICS_PORT": "0",  # any free port: the machine may run other writers
    }


@asynccontextmanager
async def worker_process(
    world: World, env: Mapping[str, str] | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``hub worker`` as a process of its own, ``env`` over the world's; killed on exit if it
    still runs."""
    process = await asyncio.create_subprocess_exec(
        *HUB, "worker", env=worker_environment(world) | dict(env or {}),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        async with asyncio.timeout(GUARD_S):
            await process.wait()


async def test_sigterm_finishes_the_message_in_flight_and_leaves_the_rest_for_redelivery(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given `hub worker` running, with Open Dental taking a second per request
    world = await make_world()
    simulator.set_faults(FaultConfig(latency_ms=1000, customer_keys=(FULL_KEY,)))
    process = await asyncio.create_subprocess_exec(
        *HUB, "worker", env=worker_environment(world),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    first, second, surname = unique("key"), unique("key"), letters()
    async with vendor_client(world.settings, world.vendor) as vendor:
        for key, last in ((first, surname), (second, letters())):
            await vendor.publish(patient_create(world.office, key, last=last), office=world.office)

        async def first_in_flight_or_exited() -> bool:
            in_flight = simulator.faults.injected[InjectedFault.LATENCY] >= 1
            return in_flight or process.returncode is not None

        await eventually(first_in_flight_or_exited, "the first intent's request was sent")
        assert process.returncode is None, (await process.communicate())[1].decode()

        # When it gets SIGTERM while the first intent's request is in flight
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(GUARD_S):
            _, stderr = await process.communicate()

    # Then it exits 0, having finished the first intent and not started the second
    assert process.returncode == 0, stderr.decode()
    (event,) = await drain_outcomes(hub_channel, world.vendor.name, 1)
    assert (event.idempotency_key, event.status) == (first, OutcomeStatus.APPLIED)
    assert await ledger.story(world.vendor.name, second) is None
    # And its logs are JSON lines with ids, without the patient's name
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.strip()]
    assert any(line.get("office") == world.office and "intent_id" in line for line in lines)
    assert surname not in stderr.decode()

    # When a writer runs again, Then the second intent is delivered again and applied
    simulator.set_faults(FaultConfig())
    async with running_worker(world):
        (event,) = await drain_outcomes(hub_channel, world.vendor.name, 1)
    assert (event.idempotency_key, event.status) == (second, OutcomeStatus.APPLIED)
