"""An operator's replay (``hub dlq replay``, through ``hub.replay``): a dead intent is processed
again and applied; an applied one is answered as a duplicate and changes nothing. Only the hub's
own user can replay: a vendor's resend of a dead intent is a duplicate, and a vendor may not
publish to ``hub.replay`` at all."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aio_pika
import aiormq
import pytest
from aio_pika.abc import AbstractQueue, AbstractRobustChannel

from contracts import OutcomeReason, OutcomeStatus
from hub import names
from hub.dlq import DeadLetterFilter, DlqNames, ReplayStatus, replay_dead_letters
from hub.ledger import MySqlLedger
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.reliability.support import api_statuses
from tests.support.audit import ALICE, said, trail
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    drain_outcomes,
    letters,
    patient_create,
    patients_named,
    running_worker,
    unique,
    vendor_client,
)


@pytest.fixture
async def dead_letters(hub_channel: AbstractRobustChannel) -> AsyncIterator[AbstractQueue]:
    """The test's own dead-letter queue (hub.dead is every test's): bound by office in the
    test, read by ``hub dlq`` over its own connection, deleted afterwards."""
    queue = await hub_channel.declare_queue(f"t-dead-{uuid.uuid4().hex[:10]}", durable=True)
    yield queue
    await queue.delete(if_unused=False, if_empty=False)


async def test_a_dead_intent_replayed_by_an_operator_is_processed_again_and_applied(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle, dead_letters: AbstractQueue,
) -> None:
    # Given an intent that died (Open Dental answered 500 and the writer may try once)
    world = await make_world(writer=FAST_WRITER.model_copy(update={"max_attempts": 1}))
    await dead_letters.bind(names.DEAD_LETTER_EXCHANGE, names.dead_letter_key(world.office))
    simulator.set_faults(FaultConfig(rate_500=1.0))
    key, last = unique("key"), letters()
    intent = patient_create(world.office, key, last=last)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(intent, office=world.office)
        (dead,) = await drain_outcomes(hub_channel, vendor.name, 1)
        assert (dead.status, dead.reason) == (OutcomeStatus.DEAD, OutcomeReason.RETRIES_EXHAUSTED)
        simulator.set_faults(FaultConfig())

        # When the vendor sends it again itself
        await vendor.publish(intent, office=world.office)
        (again,) = await drain_outcomes(hub_channel, vendor.name, 1)
        # Then it is a duplicate of the dead outcome: vendors cannot reopen an intent
        assert (again.status, again.duplicate) == (OutcomeStatus.DEAD, True)

        # When an operator replays the dead letter
        where = DlqNames(queue=dead_letters.name)
        report = await replay_dead_letters(
            world.settings, DeadLetterFilter(), where=where, operator=ALICE
        )
        assert [result.status for result in report.results] == [ReplayStatus.REPLAYED]
        (replayed,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then it was processed again, in a fresh run of attempts, and applied, once
    assert (replayed.status, replayed.duplicate) == (OutcomeStatus.APPLIED, False)
    assert await api_statuses(ledger, replayed) == [500, 201]
    assert len(await patients_named(world.od_database, last)) == 1
    # And the operator's replay is in the audit trail
    assert said(await trail(world.settings.ledger_db)) == [
        ("dlq_replay", dead_letters.name, "ok", None)
    ]


async def test_replaying_an_intent_applied_meanwhile_changes_nothing(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
) -> None:
    # Given an applied intent
    world = await make_world()
    key, last = unique("key"), letters()
    intent = patient_create(world.office, key, last=last)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(intent, office=world.office)
        (applied,) = await drain_outcomes(hub_channel, vendor.name, 1)

        # When an operator replays it (as hub dlq replay does: as the vendor, on hub.replay)
        replay = await hub_channel.get_exchange(names.REPLAY_EXCHANGE, ensure=False)
        message = aio_pika.Message(
            json.dumps(intent).encode(), user_id=vendor.name, content_type="application/json"
        )
        await replay.publish(message, names.intent_key(world.office, "patient.create"))
        (repeated,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the first outcome is repeated as a duplicate, and nothing was sent again
    assert (repeated.status, repeated.duplicate, repeated.od) == (
        OutcomeStatus.APPLIED, True, applied.od
    )
    assert await api_statuses(ledger, applied) == [201]
    assert len(await patients_named(world.od_database, last)) == 1


async def test_a_vendor_may_not_publish_to_the_replay_exchange(make_world: MakeWorld) -> None:
    # Given a vendor's own broker connection
    world = await make_world()
    async with vendor_client(world.settings, world.vendor) as vendor:
        # When it publishes to hub.replay, Then the broker refuses it
        replay = await vendor.channel.get_exchange(names.REPLAY_EXCHANGE, ensure=False)
        message = aio_pika.Message(b"{}", user_id=vendor.name)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await replay.publish(message, names.intent_key(world.office, "patient.create"))
