"""``hub vendor pause|resume`` on a running writer: the broker refuses the vendor's new
publishes, the writer holds its queued message while another vendor's are applied, and on
resume both come back, nothing lost."""

from __future__ import annotations

from typing import cast

import aiormq
import pytest
from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeStatus
from hub.broker_admin import Connection, ManagementApi, TopicPermission
from hub.control.commands import pause_office, pause_vendor, resume_office, resume_vendor
from hub.control.vendor_publishes import refuse_publishes
from hub.ledger import MySqlLedger
from hub.vendor_access import NOTHING
from tests.operations.support import (
    ALICE,
    fast,
    publish,
    running_writer,
    until_lane,
    until_listed,
    vendor_channel,
)
from tests.support.audit import said, trail
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
            # When the first vendor is paused (its connection listed by the broker by then) and
            # the office resumed
            await until_listed(world.settings, first.name)
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
    # And the audit trail has every pause and resume, the vendor's with what the broker did
    entries = await trail(world.settings.ledger_db)
    assert said(entries) == [
        ("office_pause", office, "ok", None), ("vendor_pause", first.name, "ok", None),
        ("office_resume", office, "ok", None), ("vendor_resume", first.name, "ok", None),
    ]
    assert entries[1].outcome == {
        "changed": True, "broker": True, "connections_closed": paused.connections_closed
    }


class _ListsLate:
    """The management API as a pause meets it right after the vendor connected: the connection
    is listed only from the second listing on. The real API's lag (its statistics interval,
    seconds) cannot be produced on demand, so it is stood in for here."""

    def __init__(self) -> None:
        self.listings = 0
        self.closed: list[str] = []
        self.permissions: list[TopicPermission] = []

    async def set_topic_permission(self, permission: TopicPermission) -> None:
        self.permissions.append(permission)

    async def connections_of(self, user: str) -> list[Connection]:
        self.listings += 1
        if self.listings == 1 or self.closed:
            return []
        return [Connection(name="late", user=user)]

    async def close_connection(self, name: str, reason: str) -> bool:
        self.closed.append(name)
        return True


@pytest.mark.parametrize(("recheck_s", "closed"), [(0.0, []), (0.01, ["late"])])
async def test_a_pause_looks_again_for_a_connection_the_broker_listed_late(
    recheck_s: float, closed: list[str]
) -> None:
    # Given a vendor whose connection the management API does not list yet
    api = _ListsLate()
    # When its publishes are refused, looking again after recheck_s (none: not again)
    count = await refuse_publishes(cast(ManagementApi, api), "acme", recheck_s=recheck_s)
    # Then the refusal is set at once, and the connection listed late is closed only on a recheck
    assert [(p.user, p.write, p.read) for p in api.permissions] == [("acme", NOTHING, NOTHING)]
    assert (count, api.closed) == (len(closed), closed)

