"""change_sends on MariaDB: an owed change is recorded once, and only settled rows are forgotten
past retention (a pending one is still owed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from contracts import ChangeDoor
from hub.change_events.mysql_sends import MySqlChangeSends, OwedChange, SendState
from hub.ledger import migrate
from hub.ledger.mysql_session import ignore_query
from hub.settings import MySqlSettings
from tests.support.mariadb import ROOT


@pytest.fixture
async def sends(empty_database: str) -> AsyncIterator[MySqlChangeSends]:
    settings = MySqlSettings(
        host=ROOT.host, port=ROOT.port, user=ROOT.user, password=ROOT.password,
        database=empty_database,
    )
    await migrate(settings)
    store = await MySqlChangeSends.open(settings, on_query=ignore_query)
    yield store
    await store.close()


def _owed(vendor: str, key: int) -> OwedChange:
    return OwedChange(
        id=0, vendor=vendor, event_id=f"{key:064x}", office="office-1", table="appointment",
        primary_key=key, door=ChangeDoor.UNEXPLAINED, columns=("AptStatus",),
        changed_at=datetime(2030, 4, 1, 12, 0, 0, 500, tzinfo=UTC),
    )


async def test_a_change_is_owed_once_and_read_back_as_recorded(sends: MySqlChangeSends) -> None:
    # Given two changes owed to one vendor
    owed = [_owed("remindly", 1), _owed("remindly", 2)]
    # When they are recorded, then recorded again
    first, again = await sends.record(owed), await sends.record(owed)
    # Then only the first counts, and they read back oldest first, as recorded
    assert (first, again) == (2, 0)
    pending = await sends.pending("office-1", limit=10)
    assert [(p.event_id, p.changed_at, p.columns, p.door) for p in pending] == [
        (o.event_id, o.changed_at, o.columns, o.door) for o in owed
    ]


async def test_only_settled_rows_are_forgotten(sends: MySqlChangeSends) -> None:
    # Given one change sent and one still pending
    await sends.record([_owed("remindly", 1), _owed("remindly", 2)])
    sent, pending = await sends.pending("office-1", limit=10)
    await sends.settle(sent, SendState.SENT)
    # When rows recorded before a moment past both are forgotten
    forgotten = await sends.forget_settled(datetime.now(UTC) + timedelta(minutes=1))
    # Then the sent one goes and the pending one is still owed
    assert forgotten == 1
    assert [p.event_id for p in await sends.pending("office-1", limit=10)] == [pending.event_id]
