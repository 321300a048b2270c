"""The broker topology, declared once, idempotently, by ``hub topology`` and by the writer at start.

    hub.intents  (topic) ──<office>.#──▶ hub.office.<office>   quorum, single active consumer,
                                                              delivery limit, dead letters ─┐
    hub.outcomes (topic) ──<vendor>.#──▶ hub.outcomes.<vendor> quorum                       │
    hub.dlx      (topic) ──#──────────▶ hub.dead              quorum  ◀── dead.<office> ────┘
    hub.replay   (topic) ──<office>.#──▶ hub.office.<office>   an operator's replay (hub dlq)
    hub.dead.expired (topic) ──#──────▶ hub.dead.expired      quorum  ◀── hub.dead past its
                                                              retention (hub/dlq/retention.py)

``hub topology`` also puts hub.dead's retention policy (``HUB_DEAD_RETENTION_DAYS``) through the
management API: a policy, unlike a queue argument, changes when the setting does.

Declared on a robust channel, every exchange, queue and binding is restored after a reconnect.
Declaring an existing queue with other arguments fails with ``TopologyError`` naming it: the
broker never changes a queue's arguments, so an operator must delete it or align the settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypedDict, cast

import aiormq
from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractQueue, FieldValue

from hub import names
from hub.audit import Operator
from hub.broker_admin import management_api
from hub.broker_connection import robust_channel
from hub.dlq.retention import DEFAULT_RETENTION_NAMES, RetentionNames, apply_retention
from hub.errors import HubError
from hub.registry import Registry
from hub.registry.audited import load_audited_registry
from hub.settings import HubSettings

DEFAULT_DELIVERY_LIMIT = 20


class TopologyError(HubError):
    """The broker refused a declaration: conflicting arguments, or no permission."""


QuorumQueueArguments = TypedDict(
    "QuorumQueueArguments",
    {"x-queue-type": Literal["quorum"]},
)

OfficeQueueArguments = TypedDict(
    "OfficeQueueArguments",
    {
        "x-queue-type": Literal["quorum"],
        # One writer per office at a time: the broker keeps the office's order and fails over.
        "x-single-active-consumer": bool,
        # A message delivered this often (it crashes the writer every time) is dead-lettered.
        "x-delivery-limit": int,
        "x-dead-letter-exchange": str,
        "x-dead-letter-routing-key": str,
        # At-least-once dead-lettering (3.10+): a poison message is kept until hub.dead confirms
        # it; the broker applies this strategy only with the reject-publish overflow.
        "x-dead-letter-strategy": Literal["at-least-once"],
        "x-overflow": Literal["reject-publish"],
    },
)


@dataclass(frozen=True, kw_only=True)
class Topology:
    offices: tuple[str, ...]
    vendors: tuple[str, ...]
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT


def topology_for(registry: Registry, delivery_limit: int = DEFAULT_DELIVERY_LIMIT) -> Topology:
    return Topology(
        offices=tuple(registry.offices),
        vendors=tuple(registry.vendors),
        delivery_limit=delivery_limit,
    )


def office_queue_arguments(office: str, delivery_limit: int) -> OfficeQueueArguments:
    return {
        "x-queue-type": "quorum",
        "x-single-active-consumer": True,
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": names.DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": names.dead_letter_key(office),
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def quorum_queue_arguments() -> QuorumQueueArguments:
    return {"x-queue-type": "quorum"}


async def declare_topology(channel: AbstractChannel, topology: Topology) -> None:
    """Declare the exchanges, the dead-letter queue, and every office's and vendor's queue."""
    await declare_exchanges(channel)
    for office in topology.offices:
        await declare_office_queue(channel, office, topology.delivery_limit)
    for vendor in topology.vendors:
        await declare_outcome_queue(channel, vendor)


async def declare_exchanges(channel: AbstractChannel) -> None:
    """The topic exchanges, and ``hub.dead`` bound to everything dead-lettered."""
    exchanges = (
        names.INTENTS_EXCHANGE, names.OUTCOMES_EXCHANGE, names.DEAD_LETTER_EXCHANGE,
        names.REPLAY_EXCHANGE,
    )
    for exchange in exchanges:
        try:
            await channel.declare_exchange(exchange, ExchangeType.TOPIC, durable=True)
        except aiormq.exceptions.ChannelClosed as exc:
            raise _refusal(f"exchange {exchange}", exc) from exc
    dead = await _declare_queue(channel, names.DEAD_LETTER_QUEUE, quorum_queue_arguments())
    await _bind(dead, names.DEAD_LETTER_EXCHANGE, "#")
    await declare_expiry_route(channel)


async def declare_expiry_route(
    channel: AbstractChannel, where: RetentionNames = DEFAULT_RETENTION_NAMES
) -> AbstractQueue:
    """Where the dead queue's expired letters go (its retention policy names the exchange): a
    quorum queue on every key, which the writer drains into the ledger."""
    try:
        await channel.declare_exchange(where.expired_exchange, ExchangeType.TOPIC, durable=True)
    except aiormq.exceptions.ChannelClosed as exc:
        raise _refusal(f"exchange {where.expired_exchange}", exc) from exc
    queue = await _declare_queue(channel, where.expired_queue, quorum_queue_arguments())
    await _bind(queue, where.expired_exchange, "#")
    return queue


async def declare_office_queue(
    channel: AbstractChannel, office: str, delivery_limit: int = DEFAULT_DELIVERY_LIMIT
) -> AbstractQueue:
    """The office's intent queue, bound to all its keys on ``hub.intents`` and ``hub.replay``
    (declare those first). Only the hub's own user may write to ``hub.replay``."""
    arguments = office_queue_arguments(office, delivery_limit)
    queue = await _declare_queue(channel, names.office_queue(office), arguments)
    await _bind(queue, names.INTENTS_EXCHANGE, names.office_binding(office))
    await _bind(queue, names.REPLAY_EXCHANGE, names.office_binding(office))
    return queue


async def declare_outcome_queue(channel: AbstractChannel, vendor: str) -> AbstractQueue:
    """The vendor's outcome queue, bound to its keys on ``hub.outcomes`` (declare that first)."""
    queue = await _declare_queue(channel, names.outcome_queue(vendor), quorum_queue_arguments())
    await _bind(queue, names.OUTCOMES_EXCHANGE, names.vendor_binding(vendor))
    return queue


async def _declare_queue(
    channel: AbstractChannel, name: str, arguments: QuorumQueueArguments | OfficeQueueArguments
) -> AbstractQueue:
    # Every value of these TypedDicts is an AMQP field value; mypy cannot see it through them.
    table = cast(dict[str, FieldValue], dict(arguments))
    try:
        return await channel.declare_queue(name, durable=True, arguments=table)
    except aiormq.exceptions.ChannelClosed as exc:
        raise _refusal(f"queue {name}", exc) from exc


async def _bind(queue: AbstractQueue, exchange: str, routing_key: str) -> None:
    try:
        await queue.bind(exchange, routing_key)
    except aiormq.exceptions.ChannelClosed as exc:
        raise _refusal(f"binding {exchange} -[{routing_key}]-> {queue.name}", exc) from exc


def _refusal(what: str, exc: aiormq.exceptions.ChannelClosed) -> TopologyError:
    """The broker's refusal of a declaration, as one clear ``TopologyError`` naming the object."""
    if isinstance(exc, aiormq.exceptions.ChannelPreconditionFailed):
        return TopologyError(
            f"{what} already exists with other arguments; delete it or align the settings ({exc})"
        )
    return TopologyError(f"the broker refused to declare {what} ({exc})")


async def declare_registry_topology(
    settings: HubSettings, environ: Mapping[str, str], operator: Operator
) -> Topology:
    """Declare the topology of the registry at ``settings.registry_path``, then put hub.dead's
    retention policy; ``hub topology``. The registry's load is audited as ``operator``'s."""
    registry = await load_audited_registry(settings, environ, operator, command="hub topology")
    topology = topology_for(registry, settings.office_delivery_limit)
    async with robust_channel(settings.broker_url, settings.tls) as channel:
        await declare_topology(channel, topology)
    async with management_api(settings) as api:
        await apply_retention(api, DEFAULT_RETENTION_NAMES, settings.dead_retention_days)
    return topology
