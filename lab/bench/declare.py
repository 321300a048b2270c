"""Queues (and their bindings) declared through RabbitMQ's management API, not over AMQP.

A thousand queues are declared in a few seconds, eight requests at a time, with no AMQP
connection of the bench's own. The office queues' arguments are the topology's own
(hub.topology), so the writer's declarations match them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from hub import names
from hub.settings import HubSettings
from hub.topology import office_queue_arguments, quorum_queue_arguments
from lab.bench.config import BenchError

CONCURRENCY = 8
TIMEOUT_S = 30.0
HANDLES_PER_QUORUM_QUEUE = 3  # booked by RabbitMQ 3.10's file handle cache (measured)
HANDLES_FOR_CONNECTIONS = 200  # the writer's, the vendors', the reference's and the tests'
SOCKETS_SHARE = 0.9  # sockets_total is this share of the file handle cache's limit


@dataclass(frozen=True, kw_only=True)
class QueueSpec:
    name: str
    arguments: Mapping[str, object]
    binding: tuple[str, str] | None = None  # (exchange, routing key)


def office_queues(offices: list[str], delivery_limit: int) -> list[QueueSpec]:
    return [
        QueueSpec(
            name=names.office_queue(office),
            arguments=dict(office_queue_arguments(office, delivery_limit)),
            binding=(names.INTENTS_EXCHANGE, names.office_binding(office)),
        )
        for office in offices
    ]


def plain_quorum_queues(queues: list[str]) -> list[QueueSpec]:
    return [QueueSpec(name=name, arguments=dict(quorum_queue_arguments())) for name in queues]


def _q(name: str) -> str:
    return quote(name, safe="")


async def _declare(client: httpx.AsyncClient, spec: QueueSpec) -> None:
    queue = _q(spec.name)
    body = {"durable": True, "auto_delete": False, "arguments": dict(spec.arguments)}
    (await client.put(f"/api/queues/%2F/{queue}", json=body)).raise_for_status()
    if spec.binding is not None:
        exchange, routing_key = spec.binding
        binding = {"routing_key": routing_key, "arguments": {}}
        path = f"/api/bindings/%2F/e/{_q(exchange)}/q/{queue}"
        (await client.post(path, json=binding)).raise_for_status()


async def _check_room(client: httpx.AsyncClient, adding: int) -> None:
    """Refuse to declare more quorum queues than the node's file handle cache can book: past
    that, RabbitMQ accepts connections but never completes their handshake (see
    scripts/setup-broker.sh). The management API shows the cache's limit as ``sockets_total``,
    which is 90% of it."""
    nodes = (await client.get("/api/nodes", params={"columns": "name,sockets_total"})).json()
    queues = (await client.get("/api/queues", params={"columns": "type"})).json()
    quorum = sum(1 for queue in queues if queue.get("type") == "quorum")
    for node in nodes:
        limit = int(node["sockets_total"] / SOCKETS_SHARE)
        needed = HANDLES_PER_QUORUM_QUEUE * (quorum + adding) + HANDLES_FOR_CONNECTIONS
        if needed > limit:
            raise BenchError(
                f"RabbitMQ node {node['name']} can book {limit} file handles, and "
                f"{quorum} quorum queues plus {adding} more need about {needed}: raise its "
                "open-file limit (scripts/setup-broker.sh does it for a local node)"
            )


async def declare_queues(settings: HubSettings, specs: list[QueueSpec]) -> None:
    auth = (settings.management_user, settings.management_password.get_secret_value())
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=settings.management_url, auth=auth, timeout=TIMEOUT_S
    ) as client:
        await _check_room(client, len(specs))

        async def one(spec: QueueSpec) -> None:
            async with limit:
                await _declare(client, spec)

        await asyncio.gather(*(one(spec) for spec in specs))
