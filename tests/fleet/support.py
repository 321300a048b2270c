"""Helpers for tests of several writers sharing the offices: fast heartbeats, a writer of the
same world with metrics of its own, and which writer the broker made each office queue's active
consumer, as RabbitMQ's management API shows it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

import httpx
from prometheus_client import CollectorRegistry

from hub import names
from hub.broker_connection import WRITER_CONNECTION_PREFIX
from hub.settings import ControlSettings, HubSettings
from tests.writer.support import GUARD_S, World

# Beats every 0.3 s, another writer gone after 3 s without one (a loaded machine's hiccup is
# well under that), pauses, holds and writers read every 0.2 s.
SHARING = ControlSettings(
    pause_poll_s=0.2, status_heartbeat_s=0.3, writer_stale_s=3.0, depth_poll_s=0.5,
    vendor_recheck_s=0.0,
)
MANAGEMENT_POLL_S = 0.5  # the management API's figures move every few seconds anyway


def sharing(world: World) -> World:
    world.settings = world.settings.model_copy(update={"control": SHARING})
    return world


def another_writer(world: World) -> World:
    """The same offices, vendors and settings, for one more writer with metrics of its own."""
    return replace(world, metrics=CollectorRegistry())


def owned(world: World) -> float:
    """``hub_offices_owned`` of the writer that reports to the world's metrics."""
    return world.metrics.get_sample_value("hub_offices_owned") or 0.0


def handovers(world: World, direction: str) -> float:
    labels = {"direction": direction}
    return world.metrics.get_sample_value("hub_office_handovers_total", labels) or 0.0


async def active_consumers(offices: Sequence[str]) -> dict[str, list[str]]:
    """Office → the writer id of each active consumer of its queue (more than one would break
    single active consumer; none: nobody serves it). A consumer on a connection that is not a
    writer's shows as its connection's name."""
    settings = HubSettings()
    auth = (settings.management_user, settings.management_password.get_secret_value())
    async with httpx.AsyncClient(base_url=settings.management_url, auth=auth) as http:
        consumers = (await http.get("/api/consumers/%2F")).raise_for_status().json()
        connections = (await http.get("/api/connections")).raise_for_status().json()
    named = {
        each["name"]: (each.get("client_properties") or {}).get("connection_name") or each["name"]
        for each in connections
    }
    queues = {names.office_queue(office): office for office in offices}
    active: dict[str, list[str]] = {office: [] for office in offices}
    for consumer in consumers:
        office = queues.get(consumer["queue"]["name"])
        if office is not None and consumer.get("active"):
            # A channel the management API has not described yet (or no longer) lists as [].
            details = consumer.get("channel_details") or {}
            connection = details.get("connection_name", "?") if isinstance(details, dict) else "?"
            writer = named.get(connection, connection).removeprefix(WRITER_CONNECTION_PREFIX)
            active[office].append(writer)
    return active


async def spread_is(offices: Sequence[str], shares: dict[str, int]) -> bool:
    """Every office has one active consumer, and each writer is active on ``shares[writer]``
    of them."""
    active = await active_consumers(offices)
    if any(len(writers) != 1 for writers in active.values()):
        return False
    return Counter(writers[0] for writers in active.values()) == Counter(shares)


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` every ``MANAGEMENT_POLL_S`` until it holds; fails after the guard."""
    try:
        async with asyncio.timeout(2 * GUARD_S):  # a guard, not a timing
            while True:
                if await check():
                    return
                await asyncio.sleep(MANAGEMENT_POLL_S)
    except TimeoutError:
        raise AssertionError(f"this never happened: {what}") from None
