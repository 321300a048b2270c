"""The vendors publish the plan as any vendor would: through ``VendorPublisher`` (publisher
confirms, sent again after a reconnect), each as its own broker user.

A body the typed builders refuse to build (the plan's invalid intents) goes out on a robust
connection of its own, still as the vendor, through the publisher library's same
send-until-confirmed loop. Streams are published concurrently, each in order, paced together to
the run's rate; the run keeps only what the broker confirmed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

import aiormq
from aio_pika.abc import AbstractExchange, AbstractRobustChannel
from pydantic import SecretStr

from adapters.publisher import NotConfirmedReason, PublisherError, PublishNotConfirmed
from adapters.publisher.confirm import Outgoing, send_until_confirmed
from contracts.amqp import INTENTS_EXCHANGE
from lab.chaos.plan import Planned
from lab.scripted_vendor import ScriptedVendor, raw_message

CONFIRM_TIMEOUT_S = 180.0  # outlasts a broker restart
NACK_PAUSE_S = 0.1  # before a nacked intent is sent again, doubling
NACK_PAUSE_MAX_S = 2.0


@dataclass(frozen=True, kw_only=True)
class Sent:
    planned: Planned
    confirmed: bool
    failure: str | None = None  # why the broker did not confirm it


class Pacer:
    """Spaces publishes to ``rate`` a second, all streams together."""

    def __init__(self, rate: float) -> None:
        self._interval_s = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self._interval_s
        await asyncio.sleep(slot - now)


@dataclass(kw_only=True)
class Tally:
    confirmed: int = 0
    refused: int = 0


class ChaosVendor(ScriptedVendor):
    def __init__(self, name: str, broker_url: SecretStr) -> None:
        super().__init__(name, broker_url, confirm_timeout_s=CONFIRM_TIMEOUT_S)
        self._raw_channel: AbstractRobustChannel | None = None
        self._raw_exchange: AbstractExchange | None = None

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        try:
            self._raw_channel = await self._raw_connection().channel(
                publisher_confirms=True, on_return_raises=True
            )
            self._raw_exchange = await self._raw_channel.get_exchange(INTENTS_EXCHANGE,
                                                                      ensure=False)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def send(self, planned: Planned) -> Sent:
        """Sent until confirmed; a nack is sent again with the same key, as docs/vendors.md
        tells vendors, until the confirm deadline: on a cluster the broker nacks what reaches
        a queue whose leader was on a node just lost, until another leads it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONFIRM_TIMEOUT_S
        pause_s = NACK_PAUSE_S
        while True:
            try:
                await self._send_once(planned)
            except PublishNotConfirmed as exc:
                if exc.reason is not NotConfirmedReason.NACKED or loop.time() > deadline:
                    return Sent(planned=planned, confirmed=False, failure=exc.reason.value)
                await asyncio.sleep(pause_s)
                pause_s = min(pause_s * 2, NACK_PAUSE_MAX_S)
                continue
            except (PublisherError, aiormq.exceptions.AMQPError) as exc:
                return Sent(planned=planned, confirmed=False, failure=type(exc).__name__)
            return Sent(planned=planned, confirmed=True)

    async def _send_once(self, planned: Planned) -> None:
        if isinstance(planned.body, bytes):
            await self._send_raw(planned, planned.body)
        else:
            await self._publisher.publish(planned.body)

    async def _send_raw(self, planned: Planned, body: bytes) -> None:
        assert self._raw_channel is not None and self._raw_exchange is not None
        message = raw_message(body, user_id=self.name, message_id=planned.key)
        outgoing = Outgoing(message=message, routing_key=f"{planned.office}.{planned.contract}",
                            idempotency_key=planned.key)
        await send_until_confirmed(self._raw_channel, self._raw_exchange, outgoing,
                                   timeout_s=CONFIRM_TIMEOUT_S)


async def _publish_stream(
    vendor: ChaosVendor, stream: Sequence[Planned], pacer: Pacer, tally: Tally
) -> list[Sent]:
    results = []
    for planned in stream:
        await pacer.wait()
        sent = await vendor.send(planned)
        if sent.confirmed:
            tally.confirmed += 1
        else:
            tally.refused += 1
        results.append(sent)
    return results


async def publish_all(
    vendors: Mapping[str, ChaosVendor], streams: Sequence[Sequence[Planned]], pacer: Pacer,
    tally: Tally,
) -> list[Sent]:
    """Every stream, concurrently, each in its order; what the broker said of each intent."""
    per_stream = await asyncio.gather(
        *(_publish_stream(vendors[stream[0].vendor], stream, pacer, tally) for stream in streams)
    )
    return [sent for results in per_stream for sent in results]
