"""Outcome publishes are mandatory and confirmed: an unroutable outcome is a failure of that
delivery, which is then held unacked and settled again, never lost."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub import names
from hub.broker_admin import ManagementApi
from hub.ledger import MySqlLedger
from hub.topology import declare_outcome_queue
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    drain_outcomes,
    eventually,
    letters,
    od_rows,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)


async def test_an_outcome_nobody_can_route_holds_the_message_until_it_can_be_told(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    management: ManagementApi,
) -> None:
    # Given a running writer, and a vendor whose outcome queue is then deleted, so that its
    # outcomes are returned unroutable
    world = await make_world()
    key, last = unique("key"), letters()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await management.delete_queue(names.outcome_queue(vendor.name))
        # When an intent is applied
        await vendor.publish(patient_create(world.office, key, last=last), office=world.office)

        async def applied() -> bool:
            told = await ledger.story(vendor.name, key)
            return told is not None and told.intent.status == "applied"

        await eventually(applied, "the intent applied in the ledger")
        # And the vendor's queue comes back
        await declare_outcome_queue(hub_channel, vendor.name)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the held message was settled again from the ledger (so it reads as a repeat of the
    # stored outcome), and Open Dental was called once
    assert (event.idempotency_key, event.status, event.duplicate) == (
        key, OutcomeStatus.APPLIED, True
    )
    told = await ledger.story(vendor.name, key)
    assert told is not None and len(told.api_calls) == 1
    rows = await od_rows(world.od_database, "SELECT 1 FROM patient WHERE LName = %s", (last,))
    assert len(rows) == 1
