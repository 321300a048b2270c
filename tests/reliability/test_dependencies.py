"""The hub's own dependencies failing under the writer: the broker connection cut mid-stream
(the writer reconnects, redeliveries are answered by the ledger) and the hub's database gone
(lanes pause holding their messages, and go on when it is back). Nothing is lost or doubled:
Open Dental's rows are counted by SQL."""

from __future__ import annotations

from dataclasses import replace

from aio_pika.abc import AbstractRobustChannel
from pydantic import SecretStr

from contracts import OutcomeStatus
from hub.ledger import MySqlLedger
from hub.settings import MySqlSettings
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.reliability.proxy import blocking_proxy
from tests.reliability.support import every_key, sample
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    FULL_KEY,
    dead_letter_tap,
    drain_outcomes,
    drain_outcomes_until,
    eventually,
    letters,
    patient_create,
    patients_named,
    running_worker,
    unique,
    vendor_client,
)

COUNT = 12


async def test_a_cut_broker_connection_is_restored_and_every_intent_applied_once(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given the writer reaching the broker through a proxy, Open Dental taking 50 ms a request,
    # and a stream of intents
    world = await make_world()
    simulator.set_faults(FaultConfig(latency_ms=50, customer_keys=(FULL_KEY,)))
    keys, lasts = [unique("key") for _ in range(COUNT)], [letters() for _ in range(COUNT)]
    async with blocking_proxy("127.0.0.1", 5672) as (proxy, port):
        url = f"amqp://guest:guest@127.0.0.1:{port}/?reconnect_interval=0.2"
        via_proxy = replace(world, settings=world.settings.model_copy(
            update={"broker_url": SecretStr(url)}
        ))
        async with running_worker(via_proxy), vendor_client(world.settings, world.vendor) as vendor:
            for key, last in zip(keys, lasts, strict=True):
                await vendor.publish(patient_create(world.office, key, last=last),
                                     office=world.office)
            # When its connection is cut after the first outcomes
            seen = await drain_outcomes(hub_channel, vendor.name, 3)
            proxy.cut()
            enough = every_key(keys, seen)
            events = seen + await drain_outcomes_until(hub_channel, vendor.name, enough)

        # Then it came back over a new connection and every intent reached an outcome
        assert proxy.connections >= 2
    assert all(event.status is OutcomeStatus.APPLIED for event in events)
    # And Open Dental has each exactly once
    for last in lasts:
        assert len(await patients_named(world.od_database, last)) == 1
    for key in keys:
        told = await ledger.story(world.vendor.name, key)
        assert told is not None and told.intent.status == "applied"


async def test_the_hub_database_going_away_pauses_the_lanes_and_loses_nothing(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    ledger_db: MySqlSettings,
) -> None:
    # Given the writer reaching its ledger through a proxy
    keys, lasts = [unique("key") for _ in range(6)], [letters() for _ in range(6)]
    async with blocking_proxy(ledger_db.host, ledger_db.port) as (proxy, port):
        world = await make_world(
            ledger=ledger_db.model_copy(update={"port": port}),
            writer=FAST_WRITER.model_copy(update={"attempt_timeout_s": 1.0}),
        )
        taps = await dead_letter_tap(hub_channel, world.office)
        async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
            await vendor.publish(patient_create(world.office, keys[0], last=lasts[0]),
                                 office=world.office)
            seen = await drain_outcomes(hub_channel, vendor.name, 1)
            # When the database goes away while intents arrive
            proxy.block()
            for key, last in zip(keys[1:], lasts[1:], strict=True):
                await vendor.publish(patient_create(world.office, key, last=last),
                                     office=world.office)

            # Then the lane pauses, holding them
            async def paused() -> bool:
                return sample(world, "hub_lane_state", {
                    "office": world.office, "state": "paused"
                }) == 1

            await eventually(paused, "the lane paused for the hub's database")
            assert proxy.refused >= 1

            # When it comes back, Then every intent is applied
            proxy.unblock()
            enough = every_key(keys, seen)
            events = seen + await drain_outcomes_until(hub_channel, vendor.name, enough)

    assert all(event.status is OutcomeStatus.APPLIED for event in events)
    # And Open Dental has each exactly once, and nothing was dead-lettered
    for last in lasts:
        assert len(await patients_named(world.od_database, last)) == 1
    assert await taps.get(fail=False) is None
