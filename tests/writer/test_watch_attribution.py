"""The real writer's changes, as ``hub watch`` sees them: each the hub's, with its vendor and
intent (the watch's own tests are in tests/watch)."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel
from prometheus_client import CollectorRegistry

from contracts import OutcomeStatus
from hub.ledger import MySqlLedger
from hub.observability import HubMetrics, LabelBounds
from hub.watch import Door, opened_watch
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    appointment_confirm,
    appointment_create,
    drain_outcomes,
    letters,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)


async def test_every_change_the_writer_makes_is_the_hubs_with_its_intent(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given the watch over the office, its cursors set by a first scan, and the writer running
    world = await make_world()
    metrics = HubMetrics(CollectorRegistry(), LabelBounds.from_registry(world.registry))
    async with opened_watch(world.settings, world.registry, metrics) as watch:
        watcher = watch.watchers[world.office]
        await watcher.scan_once()
        keys, ref = [unique("patient"), unique("appointment")], unique("ref")
        async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
            # When a vendor creates a patient and an appointment for it through the hub
            await vendor.publish(patient_create(world.office, keys[0], last=letters(), ref=ref),
                                 office=world.office)
            await vendor.publish(appointment_create(world.office, keys[1], patient_ref=ref),
                                 office=world.office)
            events = await drain_outcomes(hub_channel, vendor.name, 2)
        assert [event.status for event in events] == [OutcomeStatus.APPLIED] * 2
        changes = (await watcher.scan_once()).changes
    # Then the watch attributes each row to the hub, the vendor and the intent that made it
    stories = [await ledger.story(vendor.name, key) for key in keys]
    expected = {
        (story.intent.od_table, story.intent.od_primary_key): story.intent.id
        for story in stories if story is not None
    }
    assert len(expected) == 2
    assert {(c.table.value, c.key): c.intent_id for c in changes} == expected
    assert {(c.door, c.vendor) for c in changes} == {(Door.HUB, vendor.name)}


async def test_a_confirmation_through_the_hub_is_the_hubs_and_its_hash_is_fresh(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given an appointment a vendor created through the hub, seen by the watch
    world = await make_world()
    metrics = HubMetrics(CollectorRegistry(), LabelBounds.from_registry(world.registry))
    ref = unique("ref")
    async with opened_watch(world.settings, world.registry, metrics) as watch:
        watcher = watch.watchers[world.office]
        await watcher.scan_once()
        async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
            await vendor.publish(patient_create(world.office, unique("p"), last=letters(), ref=ref),
                                 office=world.office)
            await vendor.publish(appointment_create(world.office, unique("a"), patient_ref=ref),
                                 office=world.office)
            *_, created = await drain_outcomes(hub_channel, vendor.name, 2)
            await watcher.scan_once()
            apt_num = created.od[0].primary_key
            # When the vendor confirms it through the hub (Open Dental rehashes the row)
            confirm = appointment_confirm(world.office, unique("c"), apt_num=apt_num,
                                          confirm_val="Confirmed")
            await vendor.publish(confirm, office=world.office)
            [confirmed] = await drain_outcomes(hub_channel, vendor.name, 1)
        assert confirmed.status is OutcomeStatus.APPLIED
        [change] = [c for c in (await watcher.scan_once()).changes if c.key == apt_num]
    # Then the change is the hub's, the hashed column moved with its hash: nothing stale
    assert (change.door, change.vendor, change.stale_hash) == (Door.HUB, vendor.name, False)
    assert {"Confirmed", "SecurityHash"} <= set(change.columns)
