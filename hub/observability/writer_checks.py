"""The writer's readiness checks (``/readyz``): its broker connection is up, the hub database
answers, and each office's Open Dental API accepts a TCP connection.

Open Dental is checked without a request, so a readiness probe never spends a slot of an
office's throttled customer key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aio_pika.abc import AbstractConnection

from hub.observability.readiness import ReadinessCheck, tcp_reachable

BROKER = "broker"
HUB_DATABASE = "hub_database"
OPEN_DENTAL = "opendental:"  # followed by the office id


def broker_connected(connection: AbstractConnection) -> ReadinessCheck:
    async def check() -> None:
        if connection.is_closed or not connection.connected.is_set():
            raise ConnectionError("the writer's broker connection is down")

    return check


def writer_checks(
    connection: AbstractConnection,
    ping_hub_database: Callable[[], Awaitable[None]],
    office_api_urls: Mapping[str, str],
) -> dict[str, ReadinessCheck]:
    checks = {BROKER: broker_connected(connection), HUB_DATABASE: ping_hub_database}
    for office, url in office_api_urls.items():
        checks[OPEN_DENTAL + office] = tcp_reachable(url)
    return checks
