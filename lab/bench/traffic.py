"""The vendor's side of a scenario: intents published as the vendor's own broker user (each
confirmed), paced per office or as a backlog, and its outcome events consumed as they come.

Times are wall-clock (``time.time()``): an outcome's ``decided_at`` is the writer's wall clock on
the same machine, so publish-to-applied is ``decided_at`` minus the moment just before publish.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
)
from pydantic import SecretStr

from contracts.amqp import CONTENT_TYPE, INTENTS_EXCHANGE
from hub import names
from hub.broker_connection import robust_channel
from lab.bench.config import BenchError
from lab.bench.world import BenchWorld, first_name

CONTRACT = "patient.create"
BIRTHDATE = "1980-01-02"
CONFIRM_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 60.0
BACKLOG_CONCURRENCY = 256  # publishes awaiting their confirm at once


@dataclass(frozen=True, kw_only=True)
class Published:
    key: str
    at: float  # wall clock, just before the publish


def patient_body(world: BenchWorld, index: int) -> dict[str, str]:
    """The patient an intent creates, as Open Dental's POST /patients takes it."""
    return {"LName": world.surname, "FName": first_name(index), "Birthdate": BIRTHDATE}


def intent_body(world: BenchWorld, office_number: int, key: str, index: int) -> bytes:
    """A patient.create intent as the vendor library writes it, without building its models:
    the publisher shares the machine with the writer, so it spends as little CPU as it can
    (tests/lab/bench checks the body against the library's own)."""
    intent = {
        "contract": CONTRACT,
        "version": 1,
        "idempotency_key": key,
        "office_id": world.office_id(office_number),
        "occurred_at": datetime.now(UTC).isoformat(),
        "payload": patient_body(world, index),
    }
    return json.dumps(intent, separators=(",", ":")).encode("utf-8")


class VendorLink:
    """The vendor's broker connection; every publish waits for the broker's confirm."""

    def __init__(self, url: SecretStr, vendor: str) -> None:
        self._url = url
        self._vendor = vendor
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None

    async def __aenter__(self) -> Self:
        self._connection = await aio_pika.connect(self._url.get_secret_value())
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await channel.get_exchange(INTENTS_EXCHANGE, ensure=False)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def publish(
        self, office: str, key: str, body: bytes, contract: str = CONTRACT
    ) -> Published:
        assert self._exchange is not None, "use `async with VendorLink(...)`"
        message = aio_pika.Message(
            body, content_type=CONTENT_TYPE, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            user_id=self._vendor, message_id=key,
        )
        at = time.time()
        await self._exchange.publish(
            message, names.intent_key(office, contract), mandatory=True, timeout=CONFIRM_TIMEOUT_S
        )
        return Published(key=key, at=at)


@asynccontextmanager
async def vendor_side(
    broker_url: SecretStr, world: BenchWorld, urls: Mapping[str, SecretStr]
) -> AsyncIterator[tuple[AbstractChannel, VendorLinks]]:
    """The bench's own channel (to read outcomes) and the vendors' connections. A node whose
    file handle cache is full never completes a handshake (see declare.py): that fails here,
    in time, and the world is torn down."""
    async with AsyncExitStack() as stack:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                channel = await stack.enter_async_context(robust_channel(broker_url))
                links = await stack.enter_async_context(VendorLinks(world, urls))
        except TimeoutError as exc:
            raise BenchError(
                f"the broker accepted no connection within {CONNECT_TIMEOUT_S:g} s of the "
                f"world's {world.offices} queues being declared"
            ) from exc
        yield channel, links


class VendorLinks:
    """Every vendor's connection: an office's intents go out as the vendor agreed with it."""

    def __init__(self, world: BenchWorld, urls: Mapping[str, SecretStr]) -> None:
        self._world = world
        self._links = {vendor: VendorLink(url, vendor) for vendor, url in urls.items()}
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            for link in self._links.values():
                await stack.enter_async_context(link)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def publish(
        self, office_number: int, key: str, body: bytes, contract: str = CONTRACT
    ) -> Published:
        link = self._links[self._world.vendor_of(office_number)]
        return await link.publish(self._world.office_id(office_number), key, body, contract)


async def publish_paced(
    link: VendorLinks, world: BenchWorld, *, tag: str, per_office_per_s: float, seconds: float
) -> list[Published]:
    """Every office publishes at ``per_office_per_s`` for ``seconds``, each from a random phase
    (offices are not in step with each other, as real ones are not)."""
    period_s = 1.0 / per_office_per_s
    draw = random.Random(tag)
    started = time.monotonic()
    published: list[Published] = []

    async def office(number: int) -> None:
        phase_s = draw.random() * period_s
        sequence = 0
        while (due_s := phase_s + sequence * period_s) < seconds:
            await asyncio.sleep(max(0.0, started + due_s - time.monotonic()))
            key = world.intent_key(tag, number, sequence)
            body = intent_body(world, number, key, number * 100_000 + sequence)
            published.append(await link.publish(number, key, body))
            sequence += 1

    await asyncio.gather(*(office(number) for number in range(1, world.offices + 1)))
    return published


async def publish_backlog(
    link: VendorLinks, world: BenchWorld, *, tag: str, per_office: int, first_sequence: int = 0
) -> list[Published]:
    """``per_office`` intents for every office, as fast as the broker confirms them; their
    sequence numbers (in keys and patients' names) from ``first_sequence`` on."""
    limit = asyncio.Semaphore(BACKLOG_CONCURRENCY)
    sequences = range(first_sequence, first_sequence + per_office)

    async def one(number: int, sequence: int) -> Published:
        key = world.intent_key(tag, number, sequence)
        body = intent_body(world, number, key, number * 100_000 + sequence)
        async with limit:
            return await link.publish(number, key, body)

    return await asyncio.gather(
        *(one(n, s) for s in sequences for n in range(1, world.offices + 1))
    )


@dataclass(frozen=True, kw_only=True)
class Decided:
    status: str
    decided_at: float  # wall clock, from the event
    duplicate: bool


class Outcomes:
    """The vendor's outcome events by idempotency key; ``reach(n)`` waits for the n-th."""

    def __init__(self) -> None:
        self.decided: dict[str, Decided] = {}
        self._waiters: list[tuple[int, asyncio.Future[float]]] = []
        self._consumers: list[tuple[AbstractQueue, str]] = []

    async def consume(self, channel: AbstractChannel, world: BenchWorld) -> None:
        for vendor in world.vendors():
            queue = await channel.get_queue(names.outcome_queue(vendor), ensure=False)
            # No acks: the queue is the run's own and is deleted with it.
            self._consumers.append((queue, await queue.consume(self._on_message, no_ack=True)))

    async def stop(self) -> None:
        """Stop reading, before the queues go: else the broker cancels every consumer, and
        aio-pika says so on stderr, once per vendor."""
        consumers, self._consumers = self._consumers, []
        for queue, tag in consumers:
            await queue.cancel(tag)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        event = json.loads(message.body)
        self.decided[event["idempotency_key"]] = Decided(
            status=event["status"],
            decided_at=datetime.fromisoformat(event["decided_at"]).timestamp(),
            duplicate=bool(event.get("duplicate")),
        )
        count = len(self.decided)
        for target, future in self._waiters:
            if count >= target and not future.done():
                future.set_result(time.monotonic())
        self._waiters = [waiter for waiter in self._waiters if not waiter[1].done()]

    async def reach(self, count: int, timeout_s: float) -> float:
        """Until ``count`` distinct intents have outcomes; the monotonic time it happened."""
        if len(self.decided) >= count:
            return time.monotonic()
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((count, future))
        async with asyncio.timeout(timeout_s):
            return await future

    def of(self, published: list[Published]) -> list[tuple[Published, Decided]]:
        return [(p, self.decided[p.key]) for p in published if p.key in self.decided]

