"""Helpers for tests of a running writer's operations: fast control settings, the writer with
its metrics server, intents published as a vendor (with the AMQP timestamp), and reading what
``hub status`` reads."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aiomysql
from aio_pika.abc import AbstractChannel
from yarl import URL

from hub import bootstrap, names
from hub.broker_admin import management_api
from hub.control.commands import Who
from hub.observability import ObservabilityServer, serving
from hub.observability.writer_checks import REGISTRY, registry_loads
from hub.settings import ControlSettings, HubSettings, MySqlSettings
from hub.status import LaneLine, gather
from hub.writer.worker import Worker
from tests.writer.support import GUARD_S, VendorSpec, World, eventually

# No recheck of a paused vendor's connections: a test waits until the management API lists
# the connection it means the pause to close (until_listed); the recheck has a test of its own.
FAST_CONTROL = ControlSettings(
    pause_poll_s=0.2, status_heartbeat_s=0.3, depth_poll_s=0.3, vendor_recheck_s=0.0
)
STATUS_POLL_S = 0.1  # hub status opens its own connections: not too often
ALICE = Who(operator="alice", reason="checking whether this office causes the errors")


def fast(world: World) -> World:
    """The world with pauses, lane status and depths refreshed every few tenths of a second."""
    world.settings = world.settings.model_copy(update={"control": FAST_CONTROL})
    return world


@dataclass(frozen=True, kw_only=True)
class RunningWriter:
    worker: Worker
    parts: bootstrap.Writer
    server: ObservabilityServer


@asynccontextmanager
async def running_writer(world: World) -> AsyncIterator[RunningWriter]:
    """The writer as ``hub worker`` runs it, with /metrics, /healthz and /readyz on a free
    port; drained on exit."""
    async with bootstrap.writer(
        world.settings, world.registry, metrics_registry=world.metrics
    ) as parts, serving(
        parts.metrics_registry,
        {**parts.readiness, REGISTRY: registry_loads(world.settings, world.environ)},
        host="127.0.0.1", port=0, liveness=parts.liveness,
    ) as srv:
        worker = Worker(parts)
        try:
            await worker.start()
            yield RunningWriter(worker=worker, parts=parts, server=srv)
        finally:
            await worker.drain()


@asynccontextmanager
async def vendor_channel(
    settings: HubSettings, vendor: VendorSpec
) -> AsyncIterator[AbstractChannel]:
    """A confirming channel on the vendor's own broker login."""
    url = URL(settings.broker_url.get_secret_value()).with_user(vendor.name)
    async with await aio_pika.connect(str(url.with_password(vendor.password))) as connection:
        yield await connection.channel(publisher_confirms=True)


async def publish(
    channel: AbstractChannel, vendor: str, intent: dict[str, Any], contract: str = "patient.create"
) -> None:
    """As the vendor's own login, confirmed, stamped with the publish time like the library."""
    message = aio_pika.Message(
        json.dumps(intent).encode(), content_type="application/json",
        message_id=uuid.uuid4().hex, user_id=vendor, timestamp=datetime.now(UTC),
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
    exchange = await channel.get_exchange(names.INTENTS_EXCHANGE, ensure=False)
    await exchange.publish(message, names.intent_key(intent["office_id"], contract))


async def lane_of(world: World, office: str) -> LaneLine:
    """The office's line in ``hub status`` (one writer runs in these tests)."""
    status = await gather(world.settings)
    lines = [line for line in status.lanes if line.office == office]
    assert len(lines) == 1, lines
    return lines[0]


async def until_listed(settings: HubSettings, vendor: str) -> None:
    """Wait until the management API lists a connection of the vendor's (it lists one only
    after its statistics interval, some seconds after it opened)."""
    async with management_api(settings) as api:

        async def listed() -> bool:
            return bool(await api.connections_of(vendor))

        await eventually(listed, f"a connection of {vendor} listed by the management API")


async def until_lane(world: World, office: str, **expected: object) -> LaneLine:
    """Wait until the office's status line shows ``expected`` (field=value); fails after the
    guard, naming the last line seen."""
    line: LaneLine | None = None
    try:
        async with asyncio.timeout(GUARD_S):  # a guard, not a timing
            while True:
                line = await lane_of(world, office)
                if all(getattr(line, key) == value for key, value in expected.items()):
                    return line
                await asyncio.sleep(STATUS_POLL_S)
    except TimeoutError:
        raise AssertionError(f"office {office} never showed {expected}; last: {line}") from None


async def hub_sql(
    db: MySqlSettings, sql: str, args: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    """Rows of the hub database, read or changed behind the hub's back (as a test must)."""
    conn = await aiomysql.connect(host=db.host, port=db.port, user=db.user, db=db.database,
                                  password=db.password.get_secret_value(), autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql, args)
            return [tuple(row) for row in await cur.fetchall()]
    finally:
        conn.close()
