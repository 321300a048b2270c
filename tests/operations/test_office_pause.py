"""``hub office pause|resume`` on a running writer: the office's messages wait, unapplied and
unlost, while another office's are applied; resumed, they are applied in order."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub.control.commands import pause_office, resume_office
from hub.ledger import MySqlLedger
from tests.operations.support import (
    ALICE,
    fast,
    publish,
    running_writer,
    until_lane,
    vendor_channel,
)
from tests.support.audit import said, trail
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FULL_KEY,
    drain_outcomes,
    letters,
    od_rows,
    patient_create,
    unique,
)


async def test_a_paused_office_holds_its_messages_until_resumed(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given a writer serving two offices, and an operator pausing the first one
    world = fast(await make_world((FULL_KEY, FULL_KEY)))
    paused, other = world.offices[0].id, world.offices[1].id
    names = [letters() for _ in range(3)]
    held_keys = [unique("held"), unique("held")]
    vendor = world.vendor.name
    async with running_writer(world), vendor_channel(world.settings, world.vendor) as channel:
        await pause_office(world.settings, world.environ, paused, ALICE)
        line = await until_lane(world, paused, state="paused")
        assert line.pause is not None and line.pause.paused_by == "alice"
        assert line.pause.reason == ALICE.reason
        # When the vendor sends two intents for the paused office, then one for the other
        for key, last in zip(held_keys, names, strict=False):
            await publish(channel, vendor, patient_create(paused, key, last=last))
        other_key = unique("other")
        await publish(channel, vendor, patient_create(other, other_key, last=names[2]))
        (first,) = await drain_outcomes(hub_channel, vendor, 1)
        # Then the other office's intent is applied while the paused office's two wait ready in
        # its queue (its lane does not consume: no broker timer runs on them), and not one of
        # them reached the ledger
        assert (first.idempotency_key, first.status) == (other_key, OutcomeStatus.APPLIED)
        await until_lane(world, paused, state="paused", in_flight=0, queue_depth=2)
        assert [await ledger.story(vendor, key) for key in held_keys] == [None, None]
        # When the office is resumed
        await resume_office(world.settings, world.environ, paused, ALICE)
        resumed = await drain_outcomes(hub_channel, vendor, 2)
        await until_lane(world, paused, state="running", in_flight=0, pause=None)

    # Then its intents are applied, in the order they were sent
    assert [(e.idempotency_key, e.status) for e in resumed] == [
        (key, OutcomeStatus.APPLIED) for key in held_keys
    ]
    # And nothing was lost or doubled: one patient per intent in Open Dental
    for last in names:
        rows = await od_rows(world.od_database, "SELECT PatNum FROM patient WHERE LName = %s",
                             (last,))
        assert len(rows) == 1, last
    # And the audit trail has the pause and the resume, each as done, by alice
    entries = await trail(world.settings.ledger_db)
    assert said(entries) == [
        ("office_pause", paused, "ok", None), ("office_resume", paused, "ok", None)
    ]
    assert {(e.operator, e.details["reason"], str(e.outcome)) for e in entries} == {
        ("alice", ALICE.reason, "{'changed': True}")
    }
