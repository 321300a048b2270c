"""Outcome publishes are mandatory and confirmed; one the broker will not take waits in the
outbox (hub/outbox), so a vendor without its outcome queue stalls nobody: the intent is decided
and acked, its outcome is shown waiting and delivered once the queue is back. Only a failed
write to the outbox holds the message, as any failure of the hub's own database does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomysql
from aio_pika.abc import AbstractRobustChannel
from prometheus_client import CollectorRegistry

from contracts import OutcomeStatus
from hub import names
from hub.broker_admin import ManagementApi
from hub.ledger import MySqlLedger
from hub.outbox import Waiting
from hub.settings import ControlSettings, MySqlSettings
from hub.status import gather, status_json, status_text
from hub.topology import declare_outcome_queue
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    World,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    patients_named,
    running_worker,
    unique,
    vendor_client,
)

RELAY_POLL_S = 0.2


def relay_every(world: World, poll_s: float) -> World:
    world.settings = world.settings.model_copy(
        update={"control": ControlSettings(outbox_poll_s=poll_s)}
    )
    return world


def quick_relay(world: World) -> World:
    return relay_every(world, RELAY_POLL_S)


async def waiting_outcomes(world: World) -> list[Waiting]:
    status = await gather(world.settings)
    assert status.outcomes_waiting is not None, status.problems
    return status.outcomes_waiting


async def applied(ledger: MySqlLedger, vendor: str, key: str) -> bool:
    told = await ledger.story(vendor, key)
    return told is not None and told.intent.status == "applied"


async def office_queue_empty(management: ManagementApi, office: str) -> bool:
    """Nothing of the office's left in its queue, ready or unacked (the broker's counts)."""
    depth = await management.queue_depth(names.office_queue(office))
    return depth is not None and depth.messages == 0


async def test_a_vendor_without_its_outcome_queue_stalls_no_other_vendor_of_the_office(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    management: ManagementApi,
) -> None:
    # Given a running writer, one office and two vendors, the first of which has lost its
    # outcome queue (its outcomes are returned unroutable)
    world = quick_relay(await make_world(vendor_count=2))
    first, second = world.vendors
    lost = [(unique("key"), letters()) for _ in range(2)]
    others = [(unique("key"), letters()) for _ in range(2)]
    async with running_worker(world), vendor_client(world.settings, first) as a, \
            vendor_client(world.settings, second) as b:
        await management.delete_queue(names.outcome_queue(a.name))
        # When the first vendor's intent comes first in the office's queue, the second
        # vendor's behind it, then the first vendor's again
        await a.publish(patient_create(world.office, lost[0][0], last=lost[0][1]),
                        office=world.office)
        for key, last in others:
            await b.publish(patient_create(world.office, key, last=last), office=world.office)
        await a.publish(patient_create(world.office, lost[1][0], last=lost[1][1]),
                        office=world.office)

        # Then the second vendor's intents are applied and their outcomes arrive
        told = await drain_outcomes(hub_channel, b.name, len(others))
        assert [(e.idempotency_key, e.status) for e in told] == [
            (key, OutcomeStatus.APPLIED) for key, _ in others
        ]
        # And the first vendor's are applied and acked, their outcomes waiting and shown

        async def all_applied() -> bool:
            return all([await applied(ledger, a.name, key) for key, _ in lost])

        await eventually(all_applied, "the first vendor's intents applied")
        await eventually(lambda: office_queue_empty(management, world.office),
                         "the office's queue empty: every delivery acked")
        (waiting,) = await waiting_outcomes(world)
        assert (waiting.vendor, waiting.count) == (a.name, len(lost))
        assert waiting.last_error is not None and "hub.outcomes" in waiting.last_error
        status = await gather(world.settings)
        assert f"  {a.name}  {len(lost)}, oldest " in status_text(status)
        shown = json.loads(status_json(status))["outcomes_waiting"]
        assert [(w["vendor"], w["waiting"]) for w in shown] == [(a.name, len(lost))]

        # When the first vendor's outcome queue is declared again
        await declare_outcome_queue(hub_channel, a.name)
        # Then the relay delivers its outcomes, in decision order, as first told
        delivered = await drain_outcomes(hub_channel, a.name, len(lost))

        async def outbox_empty() -> bool:
            return await waiting_outcomes(world) == []

        await eventually(outbox_empty, "the outbox empty")

    assert [(e.idempotency_key, e.status, e.duplicate) for e in delivered] == [
        (key, OutcomeStatus.APPLIED, False) for key, _ in lost
    ]
    # And every intent reached Open Dental once
    for _, last in [*lost, *others]:
        assert len(await patients_named(world.od_database, last)) == 1


async def test_a_vendors_new_outcome_waits_behind_its_kept_ones_once_its_queue_is_back(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    management: ManagementApi,
) -> None:
    # Given a writer whose relay runs only when it starts, and a vendor's outcome kept because
    # its outcome queue was gone
    world = relay_every(await make_world(), 3600.0)
    (first, first_last), (second, second_last) = [(unique("key"), letters()) for _ in range(2)]
    async with vendor_client(world.settings, world.vendor) as vendor:
        async with running_worker(world):
            await management.delete_queue(names.outcome_queue(vendor.name))
            await vendor.publish(patient_create(world.office, first, last=first_last),
                                 office=world.office)
            await eventually(lambda: applied(ledger, vendor.name, first), "the first applied")
            await eventually(lambda: office_queue_empty(management, world.office),
                             "the first delivery acked")
            # When the queue is back and the vendor's next intent is applied
            await declare_outcome_queue(hub_channel, vendor.name)
            await vendor.publish(patient_create(world.office, second, last=second_last),
                                 office=world.office)
            await eventually(lambda: applied(ledger, vendor.name, second), "the second applied")
            await eventually(lambda: office_queue_empty(management, world.office),
                             "the second delivery acked")
            # Then its outcome did not overtake the kept one: it waits behind it
            (waiting,) = await waiting_outcomes(world)
            assert (waiting.vendor, waiting.count) == (vendor.name, 2)
            queue = await hub_channel.get_queue(names.outcome_queue(vendor.name), ensure=False)
            assert await queue.get(no_ack=True, fail=False) is None
        # When a writer starts again (its relay's first run)
        world.metrics = CollectorRegistry()
        async with running_worker(world):
            told = await drain_outcomes(hub_channel, vendor.name, 2)
    # Then both arrive in decision order
    assert [event.idempotency_key for event in told] == [first, second]


@asynccontextmanager
async def outbox_locked(ledger_db: MySqlSettings) -> AsyncIterator[None]:
    """Another session holding the whole outbox table and the gap after its last row, so an
    insert waits for it (and gives up after the hub's lock wait: a transient failure)."""
    conn = await aiomysql.connect(
        host=ledger_db.host, port=ledger_db.port, user=ledger_db.user,
        password=ledger_db.password.get_secret_value(), db=ledger_db.database,
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            await cur.execute("BEGIN")
            await cur.execute("SELECT id FROM outcome_outbox FOR UPDATE")
        yield
    finally:
        await conn.rollback()
        conn.close()


async def test_an_outcome_the_outbox_cannot_keep_either_holds_its_message_unacked(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    management: ManagementApi, ledger_db: MySqlSettings,
) -> None:
    # Given a running writer whose statements wait a second for a row lock (ten by default), a
    # vendor that has lost its outcome queue, and an outbox that cannot be written (another
    # session holds it past that wait)
    impatient = ledger_db.model_copy(update={"lock_wait_s": 1})
    world = quick_relay(await make_world(ledger=impatient))
    key, last = unique("key"), letters()
    held = {"office": world.office, "contract": "patient.create", "error_class": "hub"}

    async def holding() -> bool:
        return (world.metrics.get_sample_value("hub_retries_total", held) or 0.0) >= 1

    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await management.delete_queue(names.outcome_queue(vendor.name))
        async with outbox_locked(ledger_db):
            # When an intent is applied
            await vendor.publish(patient_create(world.office, key, last=last), office=world.office)
            await eventually(lambda: applied(ledger, vendor.name, key), "the intent applied")
            # Then its outcome, neither published nor kept, holds the message in the lane
            await eventually(holding, "the lane holding the message for the hub")
            assert await waiting_outcomes(world) == []

            async def unacked() -> bool:
                depth = await management.queue_depth(names.office_queue(world.office))
                return depth is not None and depth.messages_unacknowledged == 1

            await eventually(unacked, "the delivery unacked")
        # When the outbox can be written again, Then the held message is finished once more
        # (a repeat of the ledger's outcome), kept, and acked
        await eventually(lambda: office_queue_empty(management, world.office),
                         "the office's queue empty: the delivery acked")
        (waiting,) = await waiting_outcomes(world)
        assert (waiting.vendor, waiting.count) == (vendor.name, 1)
        await declare_outcome_queue(hub_channel, vendor.name)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    assert (event.idempotency_key, event.status, event.duplicate) == (
        key, OutcomeStatus.APPLIED, True
    )
    assert len(await patients_named(world.od_database, last)) == 1

