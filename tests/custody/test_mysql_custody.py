"""Custody on MariaDB: a parked delivery comes back byte for byte, in park order; an office's
hold belongs to one writer at a time, and another adopts it only once it went unrenewed."""

from __future__ import annotations

import decimal
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from contracts.limits import HUB_MAX_BYTES
from hub.custody.mysql_custody import MySqlCustody
from hub.ledger import ApiCallRecord, migrate
from hub.ledger.mysql_session import ignore_query
from hub.settings import MySqlSettings
from hub.writer.office_queue import Delivery, KeptProperties
from tests.support.mariadb import ROOT, throwaway_database

STARTED = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture
async def custody() -> AsyncIterator[MySqlCustody]:
    async with throwaway_database("tc") as name:
        settings = MySqlSettings(
            host=ROOT.host, port=ROOT.port, user=ROOT.user, password=ROOT.password, database=name
        )
        await migrate(settings)
        store = await MySqlCustody.open(settings, on_query=ignore_query)
        yield store
        await store.close()


def _delivery(office: str, vendor: str | None, body: bytes) -> Delivery:
    return Delivery(
        office=office,
        body=body,
        user_id=vendor,
        exchange="hub.intents",
        redelivered=True,
        properties=KeptProperties(
            content_type="application/json",
            headers={"x-vendor-trace": "t-1", "n": 7, "d": decimal.Decimal("1.5"),
                     "nested": {"list": [1, "two"]}, "raw": bytearray(b"\x00\xff")},
            delivery_mode=2,
            correlation_id="corr-1",
            message_id="msg-1",
            timestamp=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        held=3,
        crashes=1,
        unrecorded=(
            ApiCallRecord(attempt=2, method="POST", path="/patients", status=201,
                          latency_s=0.25, od_primary_key=17, message=None, started_at=STARTED),
        ),
    )


async def test_parked_deliveries_come_back_whole_in_park_order(custody: MySqlCustody) -> None:
    # Given two deliveries of one office parked in one go, and one of another office
    first = _delivery("o-1", "v-a", b'{"a": 1}')
    second = _delivery("o-1", None, bytes(range(256)))
    await custody.park("o-1", "w-1", "auth", [first, second])
    await custody.park("o-2", "w-1", "auth", [_delivery("o-2", "v-a", b"{}")])
    # When the first office's are read back
    parked = await custody.parked("o-1", skip_vendors=frozenset(), limit=10)
    # Then they are the same deliveries, in the order parked, and nothing of the other office
    assert [p.delivery for p in parked] == [first, second]
    assert parked[0].id < parked[1].id
    assert await custody.counts() == {"o-1": 2, "o-2": 1}
    assert await custody.parked_summary() == {"o-1": {"v-a": 1, None: 1}, "o-2": {"v-a": 1}}


async def test_documents_at_the_hub_s_ceiling_are_parked_and_come_back_whole(
    custody: MySqlCustody,
) -> None:
    # Given two deliveries of one office, each a body at the hub's ceiling (a document upload)
    bodies = [bytes([n]) * HUB_MAX_BYTES for n in (1, 2)]
    deliveries = [_delivery("o-1", "v-a", body) for body in bodies]
    # When they are parked in one go, Then each comes back whole, in order
    await custody.park("o-1", "w-1", "unreachable", deliveries)
    parked = await custody.parked("o-1", skip_vendors=frozenset(), limit=10)
    assert [p.delivery.body == body for p, body in zip(parked, bodies, strict=True)] == [True] * 2


async def test_a_paused_vendors_deliveries_are_left_parked(custody: MySqlCustody) -> None:
    # Given an office with deliveries of two vendors parked
    await custody.park("o-1", "w-1", "vendor_paused", [
        _delivery("o-1", "v-a", b"1"), _delivery("o-1", "v-b", b"2"), _delivery("o-1", "v-a", b"3"),
    ])
    # When the deliveries that may run are read while v-a is paused
    parked = await custody.parked("o-1", skip_vendors=frozenset({"v-a"}), limit=10)
    # Then only v-b's comes
    assert [p.delivery.body for p in parked] == [b"2"]
    # And once decided and unparked, it is gone while the others stay
    await custody.unpark(parked[0].id)
    assert await custody.counts() == {"o-1": 2}


async def test_a_kept_delivery_remembers_its_runs(custody: MySqlCustody) -> None:
    from dataclasses import replace

    await custody.park("o-1", "w-1", "auth", [_delivery("o-1", "v-a", b"1")])
    (parked,) = await custody.parked("o-1", skip_vendors=frozenset(), limit=10)
    await custody.keep(replace(parked, delivery=replace(parked.delivery, held=9, crashes=2)))
    (again,) = await custody.parked("o-1", skip_vendors=frozenset(), limit=10)
    assert (again.delivery.held, again.delivery.crashes) == (9, 2)


async def test_an_office_hold_belongs_to_one_writer_until_it_goes_stale(
    custody: MySqlCustody,
) -> None:
    # Given writer 1 holding the office
    assert await custody.take_hold("o-1", "w-1", "auth") is None
    # When writer 2 tries to take it, Then it is told whose it is
    other = await custody.take_hold("o-1", "w-2", "drain")
    assert other is not None and (other.writer_id, other.cause) == ("w-1", "auth")
    # And writer 1 taking it again keeps it (with its new cause)
    assert await custody.take_hold("o-1", "w-1", "open_dental_down") is None
    hold = await custody.hold("o-1")
    assert hold is not None and (hold.writer_id, hold.cause) == ("w-1", "open_dental_down")
    # When writer 2 tries to adopt it while it is fresh, Then it cannot
    assert not await custody.adopt_hold("o-1", "w-2", stale_after_s=60)
    # But once it went unrenewed long enough (here: at once), it can
    assert await custody.adopt_hold("o-1", "w-2", stale_after_s=0)
    assert (await custody.holds())["o-1"].writer_id == "w-2"
    # And writer 1 releasing it then changes nothing; writer 2's release frees it
    await custody.release_hold("o-1", "w-1")
    assert await custody.hold("o-1") is not None
    await custody.release_hold("o-1", "w-2")
    assert await custody.hold("o-1") is None


async def test_a_writer_stopping_releases_its_holds_and_renews_only_its_own(
    custody: MySqlCustody,
) -> None:
    await custody.take_hold("o-1", "w-1", "auth")
    await custody.take_hold("o-2", "w-1", "auth")
    await custody.take_hold("o-3", "w-2", "auth")
    assert await custody.renew_holds("w-1") == 2
    assert await custody.release_holds("w-1") == 2
    assert set(await custody.holds()) == {"o-3"}
