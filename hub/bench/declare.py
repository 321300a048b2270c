"""Queues (and their bindings) declared through RabbitMQ's management API, not over AMQP.

Why: with hundreds of quorum queues on the node, RabbitMQ 3.10 stops accepting new AMQP
connections for minutes after an AMQP connection closes (seen: 300 queues declared on a
connection that then closed, over a minute; 1,000 queues and a connection that declared only
twenty, minutes; deleting the queues ends it at once). So the office queues come last, over
HTTP, and every process the bench starts or opens stays connected until they are deleted.
The office queues' arguments are the topology's own (hub.topology), so the writer's
declarations match them.
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

CONCURRENCY = 8
TIMEOUT_S = 30.0


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


async def declare_queues(settings: HubSettings, specs: list[QueueSpec]) -> None:
    auth = (settings.management_user, settings.management_password.get_secret_value())
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=settings.management_url, auth=auth, timeout=TIMEOUT_S
    ) as client:

        async def one(spec: QueueSpec) -> None:
            async with limit:
                await _declare(client, spec)

        await asyncio.gather(*(one(spec) for spec in specs))
