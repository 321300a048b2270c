"""``hub vendor pause|resume`` on a running writer: the broker refuses the vendor's new
publishes, the writer holds its queued message while another vendor's are applied, and on
resume both come back, nothing lost."""

from __future__ import annotations

import aiormq
import pytest
from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub.control.commands import pause_office, pause_vendor, resume_office, resume_vendor
from hub.ledger import MySqlLedger
from tests.operations.support import (
    ALICE,
    fast,
    publish,
    running_writer,
    until_lane,
    vendor_channel,
)
from tests.writer.conftest import MakeWorld
from tests.writer.support import drain_outcomes, letters, od_rows, patient_create, unique


async def test_a_paused_vendor_is_refused_and_held_then_resumed(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given a running writer, one office, two vendors; the office paused while the first
    # vendor sends an intent, so that it is queued when that vendor is paused
    world = fast(await make_world(vendor_count=2))
    office, (first, second) = world.office, world.vendors
    held, later, refused, others = unique("held"), unique("later"), unique("refused"), unique("o")
    names = {key: letters() for key in (held, later, others)}
    async with running_writer(world):
        await pause_office(world.settings, world.environ, office, ALICE)
        await until_lane(world, office, state="paused")
        async with vendor_channel(world.settings, first) as channel:
            await publish(channel, first.name, patient_create(office, held, last=names[held]))
            # When the first vendor is paused and the office resumed
            paused = await pause_vendor(world.settings, world.environ, first.name, ALICE)
        await resume_office(world.settings, world.environ, office, ALICE)
        async with vendor_channel(world.settings, second) as channel:
            await publish(channel, second.name, patient_create(office, others, last=names[others]))
        (applied,) = await drain_outcomes(hub_channel, second.name, 1)
        # Then the other vendor's intent is applied while the paused vendor's waits, parked in
        # the hub database (acked: no broker timer runs on it)
        assert (applied.idempotency_key, applied.status) == (others, OutcomeStatus.APPLIED)
        await until_lane(world, office, state="running", in_flight=0, parked=1)
        assert await ledger.story(first.name, held) is None
        # And the broker refuses the paused vendor's new publish, after closing its connection
        assert paused.broker and paused.connections_closed >= 1
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            async with vendor_channel(world.settings, first) as channel:
                await publish(channel, first.name, patient_create(office, refused, last="X"))
        # When the vendor is resumed and publishes again
        await resume_vendor(world.settings, world.environ, first.name, ALICE)
        async with vendor_channel(world.settings, first) as channel:
            await publish(channel, first.name, patient_create(office, later, last=names[later]))
        resumed = await drain_outcomes(hub_channel, first.name, 2)

    # Then its held intent is applied, then the new one: its own order kept
    assert [(e.idempotency_key, e.status) for e in resumed] == [
        (held, OutcomeStatus.APPLIED), (later, OutcomeStatus.APPLIED),
    ]
    # And nothing was lost or doubled; the refused publish never entered the hub
    for key, last in names.items():
        rows = await od_rows(world.od_database, "SELECT PatNum FROM patient WHERE LName = %s",
                             (last,))
        assert len(rows) == 1, key
    assert await ledger.story(first.name, refused) is None
