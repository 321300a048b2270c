"""An office handed from one writer to another while its messages flow: the writer letting it go
finishes the delivery it runs and hands back what it prefetched, in order, and the new owner
goes on from there, so the office's intents are applied in the order published; an attempt in
doubt is never sent again by the writer that takes over (it waits out the attempt's time limit,
then asks the office's database)."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub.custody.mysql_custody import MySqlCustody
from hub.ledger import MySqlLedger
from hub.ledger.mysql_session import ignore_query
from odsim.faults import FaultConfig, InjectedFault
from odsim.outages import OutageChange, OutageKind
from odsim.server import SimHandle
from tests.fleet.support import another_writer, handovers, owned, sharing
from tests.operations.support import publish, running_writer, vendor_channel
from tests.reliability.support import every_key, sample
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    FULL_KEY,
    World,
    drain_outcomes,
    drain_outcomes_until,
    eventually,
    letters,
    od_rows,
    patient_create,
    unique,
)

PER_OFFICE = 20


async def _in_order(world: World, ledger: MySqlLedger, published: dict[str, list[tuple[str, str]]]
                    ) -> None:
    """Every intent applied once, each office's in the order published: Open Dental numbered
    its patients in the order it created them."""
    for office, stream in published.items():
        numbers = []
        for key, last in stream:
            (row,) = await od_rows(world.od_database, "SELECT PatNum FROM patient "
                                   "WHERE LName = %s", (last,))
            numbers.append(row["PatNum"])
            told = await ledger.story(world.vendor.name, key)
            assert told is not None and told.intent.status == "applied", key
        assert numbers == sorted(numbers), office


async def test_a_writer_joining_mid_stream_keeps_each_office_s_order(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given four offices served by one writer, Open Dental taking 300 ms a request, and twenty
    # numbered intents published to each office
    world = sharing(await make_world(keys=[FULL_KEY] * 4))
    simulator.set_faults(FaultConfig(latency_ms=300, customer_keys=(FULL_KEY,)))
    offices, vendor = [office.id for office in world.offices], world.vendor.name
    published = {office: [(unique("k"), letters()) for _ in range(PER_OFFICE)]
                 for office in offices}
    joining = another_writer(world)
    async with running_writer(world) as first:
        async with vendor_channel(world.settings, world.vendor) as channel:
            for number in range(PER_OFFICE):
                for office in offices:
                    key, last = published[office][number]
                    await publish(channel, vendor, patient_create(office, key, last=last))
        seen = await drain_outcomes(hub_channel, vendor, 4)
        # When a second writer joins while the offices' intents are being applied
        async with running_writer(joining) as second:
            every = [key for stream in published.values() for key, _ in stream]
            events = seen + await drain_outcomes_until(
                hub_channel, vendor, every_key(every, seen)
            )
            ids = first.parts.control.writer_id, second.parts.control.writer_id
            owners = second.parts.control.watcher.view().owners
            # (read while both run: once the second stops, the first takes its offices back)
            first_owned = owned(world)
    # Then the first handed two offices over, and the second applied intents of them
    assert sorted(owners[office] for office in offices) == sorted([*ids, *ids])
    assert handovers(world, "given") == 2.0 and first_owned == 2.0
    taken = [office for office in offices if owners[office] == ids[1]]
    for office in taken:
        labels = {"vendor": vendor, "office": office, "contract": "patient.create"}
        assert sample(joining, "hub_intents_received_total", labels) > 0, office
    # And every intent was applied once, each office's in the order published
    assert {e.status for e in events} == {OutcomeStatus.APPLIED}
    await _in_order(world, ledger, published)
    # And each office's outcomes came in that order too
    for office, stream in published.items():
        told = [e.idempotency_key for e in events if e.office_id == office]
        assert list(dict.fromkeys(told)) == [key for key, _ in stream], office


async def test_an_attempt_in_doubt_handed_over_is_reconciled_not_sent_again(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given four offices served by one writer, whose attempts may take 10 s, and Open Dental
    # keeping every request unanswered, then creating the patient and dropping the reply
    writer = FAST_WRITER.model_copy(update={"attempt_timeout_s": 10.0})
    world = sharing(await make_world(keys=[FULL_KEY] * 4, writer=writer))
    offices, vendor = [office.id for office in world.offices], world.vendor.name
    dropping = FaultConfig(rate_commit_then_drop=1.0, writes_only=True,
                           customer_keys=(FULL_KEY,))
    simulator.set_faults(dropping.model_copy(update={"hold": True}))
    intents = {office: (unique("k"), letters()) for office in offices}
    joining = another_writer(world)
    async with running_writer(world) as first:
        async with vendor_channel(world.settings, world.vendor) as channel:
            for office, (key, last) in intents.items():
                await publish(channel, vendor, patient_create(office, key, last=last))

        async def all_sent() -> bool:
            return simulator.faults.injected[InjectedFault.HOLD] == len(offices)

        await eventually(all_sent, "each office's request held by Open Dental")
        # When a second writer joins and takes two of the offices while their requests are
        # out, and then the requests land and their replies are lost
        async with running_writer(joining) as second:

            async def shared() -> bool:
                return (owned(world), owned(joining)) == (2.0, 2.0)

            await eventually(shared, "both writers serving two offices")
            simulator.set_faults(dropping)
            events = await drain_outcomes(hub_channel, vendor, len(offices))
            ids = first.parts.control.writer_id, second.parts.control.writer_id
            owners = second.parts.control.watcher.view().owners
    # Then every intent is applied, reconciled from the office's database, with one patient in
    # Open Dental and one request in the ledger each: the writer that took an office over sent
    # nothing again
    assert {(e.status, e.message) for e in events} == {(OutcomeStatus.APPLIED, "reconciled")}
    for office, (key, last) in intents.items():
        assert len(await od_rows(world.od_database, "SELECT PatNum FROM patient "
                                 "WHERE LName = %s", (last,))) == 1, office
        told = await ledger.story(vendor, key)
        assert told is not None and len(told.api_calls) == 1, office
    # And the second writer decided the two it took over (the first handed them back)
    for office in offices:
        labels = {"vendor": vendor, "office": office, "contract": "patient.create"}
        took = owners[office] == ids[1]
        assert (sample(joining, "hub_intents_received_total", labels) > 0) == took, office


async def test_a_held_office_handed_over_drains_what_was_parked_first(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given four offices whose Open Dental refuses the key (401), three intents waiting for
    # each, and one writer that stood each office down with what it had taken parked (a broker
    # timeout of 2 s makes a 1 s pause a long hold)
    world = sharing(await make_world(keys=[FULL_KEY] * 4))
    patient = world.settings.writer.model_copy(update={"auth_pause_s": 1.0,
                                                       "auth_pause_cap_s": 1.0})
    world.settings = world.settings.model_copy(
        update={"broker_consumer_timeout_s": 2.0, "writer": patient}
    )
    offices, vendor = [office.id for office in world.offices], world.vendor.name
    published = {office: [(unique("k"), letters()) for _ in range(6)] for office in offices}
    simulator.outages.set(OutageChange(customer_key=FULL_KEY, kind=OutageKind.UNAUTHORIZED))
    custody = await MySqlCustody.open(world.settings.ledger_db, on_query=ignore_query)
    joining = another_writer(world)
    try:
        async with vendor_channel(world.settings, world.vendor) as channel:
            for office in offices:
                for key, last in published[office][:3]:
                    await publish(channel, vendor, patient_create(office, key, last=last))
            async with running_writer(world) as first:

                async def all_held() -> bool:
                    holds, counts = await custody.holds(), await custody.counts()
                    return len(holds) == 4 and all(counts.get(o, 0) >= 1 for o in offices)

                await eventually(all_held, "every office held, its first intent parked")
                # When a second writer joins and takes two of the held offices, and then the key
                # works again and three more intents reach each office
                async with running_writer(joining) as second:

                    async def shared() -> bool:
                        return (owned(world), owned(joining)) == (2.0, 2.0)

                    await eventually(shared, "both writers serving two offices")
                    simulator.outages.set(OutageChange(customer_key=FULL_KEY, kind=None))
                    for office in offices:
                        for key, last in published[office][3:]:
                            await publish(channel, vendor, patient_create(office, key, last=last))
                    events = await drain_outcomes(hub_channel, vendor, 6 * len(offices))
                    ids = first.parts.control.writer_id, second.parts.control.writer_id
                    owners = second.parts.control.watcher.view().owners
            left = await custody.holds(), await custody.counts()
    finally:
        await custody.close()
    # Then every intent is applied, each office's in the order published: the parked ones
    # first, whichever writer drained them
    assert {e.status for e in events} == {OutcomeStatus.APPLIED}
    await _in_order(world, ledger, published)
    # And the second writer ran the intents of the offices it took, and none of the others'
    for office in offices:
        labels = {"vendor": vendor, "office": office, "contract": "patient.create"}
        took = sample(joining, "hub_intents_received_total", labels)
        assert (took > 0) == (owners[office] == ids[1]), office
    # And no hold or parked delivery is left
    assert left == ({}, {})
