"""A short demo-like flow through a real writer, so that every series the dashboards and alerts
read exists: an applied intent, its duplicate, a rejected one, and one that dies after Open
Dental answered 500 to every attempt (each in doubt, so reconciled by read-only SQL first)."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.operations.support import publish, until_lane, vendor_channel
from tests.writer.support import (
    FAST_WRITER,
    World,
    dead_letter_tap,
    drain,
    drain_outcomes,
    letters,
    patient_create,
    unique,
)

FLOW_WRITER = FAST_WRITER.model_copy(update={"max_attempts": 2})


async def run_flow(world: World, hub_channel: AbstractRobustChannel, sim: SimHandle) -> None:
    office, vendor = world.office, world.vendor.name
    taps = await dead_letter_tap(hub_channel, office)
    applied = patient_create(office, unique("applied"), last=letters(), ref=unique("ref"))
    invalid = patient_create(office, unique("invalid"), last=letters())
    invalid["payload"]["Birthdate"] = "01/02/1980"
    dying = patient_create(office, unique("dying"), last=letters())
    async with vendor_channel(world.settings, world.vendor) as channel:
        for intent in (applied, applied, invalid):
            await publish(channel, vendor, intent)
        first = await drain_outcomes(hub_channel, vendor, 3)
        sim.set_faults(FaultConfig(rate_500=1.0))
        try:
            await publish(channel, vendor, dying)
            (last,) = await drain_outcomes(hub_channel, vendor, 1)
        finally:
            sim.set_faults(FaultConfig())
    await drain(taps, 2)
    statuses = [e.status for e in (*first, last)]
    assert statuses == [OutcomeStatus.APPLIED] * 2 + [OutcomeStatus.REJECTED, OutcomeStatus.DEAD]
    await until_lane(world, office, state="running", in_flight=0)
