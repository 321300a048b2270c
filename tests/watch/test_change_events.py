"""The watch tells change.v1 events: a vendor that reads patients at the office learns of the
front desk's change, with the values its agreement lists; a vendor that does not, nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest
from prometheus_client import CollectorRegistry

from contracts import CHANGE_TYPE, ChangeDoor, ChangeEvent
from hub import names
from hub.broker_admin import management_api
from hub.observability import HubMetrics, LabelBounds
from hub.registry import Registry, load_registry
from hub.settings import HubSettings, MySqlSettings
from hub.topology import declare_exchanges, declare_outcome_queue
from hub.watch import Watch, opened_watch, scan_once
from hub.watch.store import Cursor
from hub.watch.tables import WATCHED
from hub.watch.telling import change_teller
from tests.trace.conftest import CUSTOMER_KEY_ENV, OD_PASSWORD_ENV, OFFICE_ENTRY, Office
from tests.watch.conftest import ENV, front_desk, new_patient, office_time
from tests.writer.support import unique

GUARD_S = 10.0  # a guard, not a timing
READERS = """
[[vendors]]
name = "{reader}"

[[vendors.agreements]]
office = "office-1"
read = [{{ table = "patient", values = ["HmPhone"] }}]

[[vendors]]
name = "{writer}"

[[vendors.agreements]]
office = "office-1"
contracts = ["patient.update"]
"""


@pytest.fixture
async def vendors() -> AsyncIterator[tuple[str, str]]:
    """A vendor that reads patients (HmPhone's value too) and one that only writes, each with
    its outcome queue declared as the hub's topology declares it; deleted afterwards."""
    reader, writer = unique("t-reader"), unique("t-writer")
    settings = HubSettings()
    connection = await aio_pika.connect(settings.broker_url.get_secret_value())
    async with connection:
        channel = await connection.channel()
        await declare_exchanges(channel)
        for vendor in (reader, writer):
            await declare_outcome_queue(channel, vendor)
        yield reader, writer
    async with management_api(settings) as api:
        for vendor in (reader, writer):
            await api.delete_queue(names.outcome_queue(vendor))


@pytest.fixture
def reading_registry(tmp_path: Path, office: Office, vendors: tuple[str, str]) -> Registry:
    entry = OFFICE_ENTRY.format(
        office="office-1", api_url=office.sim.base_url, database=office.database,
        customer_key_env=CUSTOMER_KEY_ENV, password_env=OD_PASSWORD_ENV,
    )
    path = tmp_path / "registry.toml"
    path.write_text(entry + READERS.format(reader=vendors[0], writer=vendors[1]), "utf-8")
    return load_registry(path, ENV)


@pytest.fixture
async def telling_watch(
    ledger_db: MySqlSettings, reading_registry: Registry, office: Office
) -> AsyncIterator[Watch]:
    settings = HubSettings(ledger_db=ledger_db)
    metrics = HubMetrics(CollectorRegistry(), LabelBounds.from_registry(reading_registry))
    async with (
        change_teller(settings, reading_registry) as tell,
        opened_watch(settings, reading_registry, metrics, tell) as watch,
    ):
        start = await office_time(office.database, -3600)
        for table in WATCHED:
            await watch.store.save_cursor("office-1", table, Cursor(stamp=start, last_key=0))
        yield watch


async def _next(vendor: str) -> aio_pika.abc.AbstractIncomingMessage:
    """The next message of the vendor's outcome queue, consumed and acked."""
    connection = await aio_pika.connect(HubSettings().broker_url.get_secret_value())
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(names.outcome_queue(vendor), ensure=False)
        async with asyncio.timeout(GUARD_S), queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                return message
    raise AssertionError("unreachable")


async def _depth(vendor: str) -> int:
    connection = await aio_pika.connect(HubSettings().broker_url.get_secret_value())
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(names.outcome_queue(vendor), passive=True)
        return int(queue.declaration_result.message_count or 0)


async def test_a_reader_learns_of_the_front_desks_change_and_a_writer_does_not(
    telling_watch: Watch, office: Office, vendors: tuple[str, str]
) -> None:
    reader, writer = vendors
    # Given a patient the watch has seen (and told of: a new row, to the reader)
    pat_num = await new_patient(office.database, await office_time(office.database, -100))
    await scan_once(telling_watch)
    await _next(reader)
    # When the front desk changes its phone, and the watch's next pass runs
    await front_desk(office.database, pat_num, "HmPhone", "555-0100",
                     await office_time(office.database, -50))
    [change] = [c for c in await scan_once(telling_watch) if c.key == pat_num]
    # Then the reader receives a change.v1 event with the door and the phone's new value
    message = await _next(reader)
    event = ChangeEvent.from_json(message.body)
    assert message.type == CHANGE_TYPE
    assert (event.door, event.primary_key, event.columns) == (
        ChangeDoor.OPEN_DENTAL_USER, pat_num, ["HmPhone"]
    )
    assert event.values == {"HmPhone": "555-0100"}
    assert change.door is ChangeDoor.OPEN_DENTAL_USER
    # And the vendor without a read agreement received nothing
    assert await _depth(writer) == 0
