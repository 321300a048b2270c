"""What losing one node of a three-node cluster costs a connected client: figures, not a test.

Each trial declares an office-like quorum queue (single active consumer, as ``hub topology``
declares office queues) through one node, consumes it through a robust connection of the hub's
own (hub/broker_connection.py) on a node, kills a node with SIGKILL, then publishes until a
message published after the kill is confirmed and delivered. Two cases:

- ``own node``: the node the consumer is connected to, which also leads the queue: the
  connection must move to another node and the queue elect another leader;
- ``leader only``: the queue's leader, while the consumer is connected elsewhere: only the
  election.

The killed node is started again after each trial, and the cluster waits for three nodes.
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from pydantic import SecretStr

from hub.broker_connection import DEFAULT_RECONNECT_INTERVAL_S, connect_robust
from hub.topology import office_queue_arguments
from lab.chaos.rabbit_cluster import RabbitCluster

Case = Literal["own node", "leader only"]
CASES: tuple[Case, ...] = ("own node", "leader only")
PUBLISH_RETRY_S = 0.05
GUARD_S = 120.0
DELIVERY_LIMIT = 20  # the hub's default
SETTLE_S = DEFAULT_RECONNECT_INTERVAL_S + 1.0


@dataclass(frozen=True, kw_only=True)
class Trial:
    case: Case
    reconnect_s: float | None  # kill → the consumer's connection restored (own node only)
    delivered_s: float  # kill → the first message published after it delivered to the consumer


@dataclass(frozen=True, kw_only=True)
class Figures:
    case: Case
    trials: int
    reconnect_median_s: float | None
    delivered_median_s: float
    delivered_max_s: float


@dataclass(frozen=True, kw_only=True)
class Report:
    formed_s: float  # three nodes started and joined
    cases: list[Figures]


async def failover_report(home: Path, trials: int) -> Report:
    """A cluster of its own in ``home``, ``trials`` kills of each case, the cluster discarded."""
    cluster = RabbitCluster(f"hubfailover-{uuid.uuid4().hex[:6]}", home)
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        await cluster.start()
        formed_s = loop.time() - began
        return Report(formed_s=formed_s, cases=figures(await measure(cluster, trials)))
    finally:
        await cluster.discard()


def figures(trials: list[Trial]) -> list[Figures]:
    out: list[Figures] = []
    for case in CASES:
        mine = [trial for trial in trials if trial.case == case]
        if not mine:
            continue
        reconnects = [t.reconnect_s for t in mine if t.reconnect_s is not None]
        delivered = [trial.delivered_s for trial in mine]
        out.append(Figures(
            case=case, trials=len(mine),
            reconnect_median_s=statistics.median(reconnects) if reconnects else None,
            delivered_median_s=statistics.median(delivered), delivered_max_s=max(delivered),
        ))
    return out


async def measure(cluster: RabbitCluster, trials: int) -> list[Trial]:
    """``trials`` of each case, one after another, on a formed cluster."""
    done: list[Trial] = []
    for number in range(trials):
        for case in CASES:
            done.append(await _trial(cluster, case, number))
    return done


async def _trial(cluster: RabbitCluster, case: Case, number: int) -> Trial:
    size = len(cluster.nodes)
    leader = number % size
    consumer_on = leader if case == "own node" else (leader + 1) % size
    queue = f"failover-probe-{uuid.uuid4().hex[:8]}"
    urls = SecretStr(cluster.amqp_urls)
    # Declared through the node that is to lead it: a quorum queue's first leader is the node
    # that declared it.
    declaring = await connect_robust(urls, first=leader)
    async with declaring:
        channel = await declaring.channel()
        await channel.declare_queue(queue, durable=True, arguments=_arguments(queue))
    consumer = await connect_robust(urls, first=consumer_on, name="failover probe")
    try:
        return await _kill_and_time(cluster, consumer, case, queue, leader)
    finally:
        await consumer.close()
        await cluster.start_node(leader)
        await _delete(urls, queue)


async def _kill_and_time(
    cluster: RabbitCluster, consumer: AbstractRobustConnection, case: Case, queue: str,
    killed: int,
) -> Trial:
    loop = asyncio.get_running_loop()
    received: asyncio.Queue[bytes] = asyncio.Queue()
    reconnected = asyncio.Event()
    consumer.reconnect_callbacks.add(lambda *_: reconnected.set())

    async def take(message: AbstractIncomingMessage) -> None:
        await message.ack()
        await received.put(message.body)

    channel = await consumer.channel()
    # Declared on the consuming channel, as a writer's lane declares its office queue: a robust
    # channel restores the queues declared on it, and their consumers, after a reconnect.
    declared = await channel.declare_queue(queue, durable=True, arguments=_arguments(queue))
    await declared.consume(take)
    # A writer has been connected for long when its node goes: past aio-pika's pause after a
    # connect (reconnect_interval), which would otherwise delay the first reconnect attempt.
    await asyncio.sleep(SETTLE_S)
    began = loop.time()
    await cluster.kill(killed)
    reconnect_s: float | None = None
    async with asyncio.timeout(GUARD_S):
        if case == "own node":
            await reconnected.wait()
            reconnect_s = loop.time() - began
        await _publish_until_confirmed(channel, queue, b"after")
        while await received.get() != b"after":
            pass
    return Trial(case=case, reconnect_s=reconnect_s, delivered_s=loop.time() - began)


def _arguments(queue: str) -> dict[str, object]:
    return dict(office_queue_arguments(queue, DELIVERY_LIMIT))


async def _publish_until_confirmed(channel: aio_pika.abc.AbstractChannel, queue: str,
                                   body: bytes) -> None:
    # Until the queue has a leader again, a publish may be refused or time out.
    while True:
        try:
            await channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=queue, timeout=5.0,
            )
            return
        except (aio_pika.exceptions.AMQPError, TimeoutError, RuntimeError):
            await asyncio.sleep(PUBLISH_RETRY_S)


async def _delete(urls: SecretStr, queue: str) -> None:
    connection = await connect_robust(urls)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)
