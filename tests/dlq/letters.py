"""Fill a test's dead-letter queue: the writer's dead letters and one real poison message."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, FieldValue
from pamqp.commands import Basic

from hub import names
from tests.dlq.conftest import Stage

VENDOR_A = "t-vendor-a"
VENDOR_B = "t-vendor-b"


@dataclass(frozen=True, kw_only=True)
class Sent:
    """A dead letter as the writer publishes it (the original intent plus x-hub-* headers)."""

    vendor: str
    office: str
    contract: str
    reason: str
    key: str
    message_id: str
    at: datetime
    attempts: int
    body: bytes
    # The writer moves the vendor's user_id to x-hub-vendor unless it may impersonate.
    keeps_user_id: bool = True

    def message(self) -> aio_pika.Message:
        return aio_pika.Message(
            self.body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            user_id=self.vendor if self.keeps_user_id else None,
            message_id=self.message_id,
            correlation_id=f"corr-{self.key}",
            type=f"{self.contract}.v1",
            headers={
                names.HEADER_REASON: self.reason,
                names.HEADER_VENDOR: self.vendor,
                names.HEADER_OFFICE: self.office,
                names.HEADER_CONTRACT: self.contract,
                names.HEADER_IDEMPOTENCY_KEY: self.key,
                names.HEADER_ATTEMPTS: self.attempts,
                names.HEADER_DEAD_LETTERED_AT: self.at.isoformat(),
            },
        )


def writer_letters(stage: Stage) -> list[Sent]:
    """Three dead letters at known times, vendor B's without user_id (as the writer sends them
    when it may not impersonate); the body stands in for patient data."""
    o1, o2, _ = stage.offices
    return [
        _sent(VENDOR_A, o1, "patient.create", "invalid", "k-a1", "k-a1", day=1, attempts=0),
        replace(
            _sent(VENDOR_B, o1, "appointment.create", "retries_exhausted", "k-b1", "k-b1", 2, 5),
            keeps_user_id=False,
        ),
        _sent(VENDOR_A, o2, "patient.create", "od_rejected", "k-a2", "m-a2", day=3, attempts=1),
    ]


def _sent(
    vendor: str, office: str, contract: str, reason: str, key: str, message_id: str,
    day: int, attempts: int,
) -> Sent:
    body = f'{{"idempotency_key": "{key}", "payload": {{"LName": "Secret-{key}"}}}}'.encode()
    return Sent(
        vendor=vendor, office=office, contract=contract, reason=reason, key=key,
        message_id=message_id, at=datetime(2024, 1, day, 10, tzinfo=UTC), attempts=attempts,
        body=body,
    )


async def publish_writer_letters(connection: AbstractConnection, stage: Stage) -> list[Sent]:
    """Publish them to the test's DLX with the writer's key ``dead.<office>``, confirmed."""
    channel = await connection.channel(publisher_confirms=True)
    dlx = await channel.get_exchange(stage.dlx)
    sent = writer_letters(stage)
    for letter in sent:
        confirm = await dlx.publish(letter.message(), names.dead_letter_key(letter.office))
        assert isinstance(confirm, Basic.Ack)
    await channel.close()
    return sent


async def make_poison(connection: AbstractConnection, stage: Stage, vendor: str | None) -> None:
    """A real broker dead letter: the vendor's intent on a queue with delivery limit 1, given
    back until the broker dead-letters it to the test's DLX (reason ``delivery_limit``). The
    vendor forged x-hub-* headers naming vendor B on it."""
    channel = await connection.channel(publisher_confirms=True)
    intents = await channel.get_exchange(stage.intents)
    forged: dict[str, FieldValue] = {
        names.HEADER_VENDOR: VENDOR_B, names.HEADER_REASON: "forged", names.HEADER_ATTEMPTS: 9
    }
    intent = aio_pika.Message(
        b'{"poison": true}', user_id=vendor, message_id="k-poison", delivery_mode=2,
        headers=forged,
    )
    await intents.publish(intent, names.intent_key(stage.offices[2], "patient.create"))
    poison = await channel.get_queue(stage.poison_queue)
    before = await message_count(channel, stage.dead)
    async with asyncio.timeout(10):  # a guard, not an assertion
        while await message_count(channel, stage.dead) == before:
            delivery = await poison.get(no_ack=False, fail=False)
            if delivery is not None:
                await delivery.nack(requeue=True)
    await channel.close()


async def fill(connection: AbstractConnection, stage: Stage) -> list[Sent]:
    """Positions 0-2 the writer's dead letters, position 3 vendor A's poison message."""
    sent = await publish_writer_letters(connection, stage)
    await make_poison(connection, stage, VENDOR_A)
    return sent


async def message_count(channel: AbstractChannel, queue: str) -> int:
    declared = await channel.declare_queue(queue, passive=True)
    count = declared.declaration_result.message_count
    assert count is not None
    return count


async def drain_ids(connection: AbstractConnection, queue: str) -> list[str | None]:
    """Take every message off ``queue`` (acked) and return their message ids, in order."""
    channel = await connection.channel()
    source = await channel.get_queue(queue)
    ids: list[str | None] = []
    while (message := await source.get(no_ack=True, fail=False)) is not None:
        ids.append(message.message_id)
    await channel.close()
    return ids
