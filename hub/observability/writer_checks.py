"""The writer's readiness checks (``/readyz``): its broker connection is up, the hub database
answers, and the registry file it runs still loads.

No office's Open Dental is checked: an office's server is often off overnight and over weekends,
and that must not make the writer unready for every other office. That office's lane shows it
(``hub status``, ``hub_lane_state``, ``hub_od_requests_total`` by status class, the alerts).

The registry is checked by loading its file again, as a restart would, with the same settings
and environment: a file broken since the writer loaded it is found now, not by the next start
(which would fail). The running writer keeps the registry it loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from aio_pika.abc import AbstractConnection

from hub.observability.readiness import ReadinessCheck
from hub.registry import load_hub_registry
from hub.settings import HubSettings

BROKER = "broker"
HUB_DATABASE = "hub_database"
REGISTRY = "registry"


def broker_connected(connection: AbstractConnection) -> ReadinessCheck:
    async def check() -> None:
        if connection.is_closed or not connection.connected.is_set():
            raise ConnectionError("the writer's broker connection is down")

    return check


def registry_loads(settings: HubSettings, environ: Mapping[str, str]) -> ReadinessCheck:
    """Raises ``RegistryError`` when the registry file no longer loads (a file read: off the
    writer's loop)."""

    async def check() -> None:
        await asyncio.to_thread(load_hub_registry, settings, environ)

    return check


def writer_checks(
    connection: AbstractConnection, ping_hub_database: Callable[[], Awaitable[None]]
) -> dict[str, ReadinessCheck]:
    return {BROKER: broker_connected(connection), HUB_DATABASE: ping_hub_database}
