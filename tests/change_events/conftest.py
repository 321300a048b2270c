"""Change-event fixtures: an office database as the simulator prepares it (the test writes the
front desk's changes into it as root), a migrated hub database, vendors' real outcome queues
declared by the hub's topology, and a notifier built as the watch would build it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import aiomysql
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection

from hub import names
from hub.broker_admin import ManagementApi, management_api
from hub.change_events.mysql_sends import MySqlChangeSends
from hub.change_events.notifier import ChangeNotifier
from hub.ledger import migrate
from hub.ledger.mysql_session import ignore_query
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.registry import Registry, load_registry
from hub.settings import HubSettings, MySqlSettings
from hub.topology import declare_exchanges, declare_outcome_queue
from hub.writer.finishing import AmqpPublisher
from odsim.config import DEFAULT_DEVELOPER
from odsim.db import DbParams
from odsim.schema import ensure_office_database
from tests.opendental.readonly_support import QueryLog, readonly_account, revoke_readonly_grants
from tests.support.mariadb import ROOT, throwaway_database
from tests.writer.support import unique

CONFIRM_TIMEOUT_S = 5.0


@dataclass(frozen=True, kw_only=True)
class Vendors:
    """Three vendors of one office: one reads appointments with AptDateTime's and Op's values,
    one reads them by column name only (and writes appointments through the hub), one only
    writes."""

    with_values: str
    names_only: str
    no_read: str

    def all(self) -> tuple[str, str, str]:
        return (self.with_values, self.names_only, self.no_read)


def registry_text(office: str, database: str, vendors: Vendors) -> str:
    return f"""
[[offices]]
id = "{office}"
api_url = "http://127.0.0.1:30223/api/v1"
mode = "service"
customer_key_env = "T_KEY"

[offices.db]
host = "127.0.0.1"
database = "{database}"
user = "od_readonly"
password_env = "T_DB_PASSWORD"

[[vendors]]
name = "{vendors.with_values}"

[[vendors.agreements]]
office = "{office}"
read = [{{ table = "appointment", values = ["AptDateTime", "Op"] }}]

[[vendors]]
name = "{vendors.names_only}"

[[vendors.agreements]]
office = "{office}"
contracts = ["appointment.update"]
read = [{{ table = "appointment" }}, {{ table = "patient" }}]

[[vendors]]
name = "{vendors.no_read}"

[[vendors.agreements]]
office = "{office}"
contracts = ["appointment.update", "patient.update"]
"""


@dataclass(kw_only=True)
class Office:
    """One office's world: its database, the hub's database, its registry, the vendors' queues."""

    id: str
    database: str
    ledger_db: MySqlSettings
    registry: Registry
    vendors: Vendors
    reads: ReadOnlyDatabase
    query_log: QueryLog
    channel: AbstractChannel  # the test's own, to consume vendors' queues

    async def root_sql(self, sql: str, args: tuple[object, ...] = ()) -> int:
        """A change in the office database as Open Dental itself would make it; the last id."""
        conn = await aiomysql.connect(
            host=ROOT.host, port=ROOT.port, user=ROOT.user,
            password=ROOT.password.get_secret_value(), db=self.database, autocommit=True,
        )
        try:
            async with conn.cursor() as cur:
                await cur.execute(sql, args)
                last: int = cur.lastrowid
                return last
        finally:
            conn.close()


MakeNotifier = Callable[..., Awaitable[ChangeNotifier]]


@pytest.fixture
async def office(empty_database: str, tmp_path: Path) -> AsyncIterator[Office]:
    await ensure_office_database(
        DbParams(), empty_database, dev_name=DEFAULT_DEVELOPER.name, customer_keys=[]
    )
    office_id = unique("t-office")
    vendors = Vendors(
        with_values=unique("t-reader"), names_only=unique("t-writer"), no_read=unique("t-other")
    )
    path = tmp_path / "registry.toml"
    path.write_text(registry_text(office_id, empty_database, vendors))
    registry = load_registry(path, {"T_KEY": "k", "T_DB_PASSWORD": "od_readonly"})
    log = QueryLog()
    settings = HubSettings()
    async with AsyncExitStack() as stack:
        ledger_name = await stack.enter_async_context(throwaway_database("tc"))
        ledger_db = MySqlSettings(
            host=ROOT.host, port=ROOT.port, user=ROOT.user, password=ROOT.password,
            database=ledger_name,
        )
        await migrate(ledger_db)
        reads = await stack.enter_async_context(ReadOnlyDatabase.open(
            readonly_account(empty_database), timeout_s=5.0, max_concurrent=2, observer=log
        ))
        connection = await aio_pika.connect(settings.broker_url.get_secret_value())
        stack.push_async_callback(connection.close)
        channel = await connection.channel()
        await declare_exchanges(channel)
        for vendor in vendors.all():
            await declare_outcome_queue(channel, vendor)
        stack.push_async_callback(_delete_queues, settings, vendors)
        yield Office(
            id=office_id, database=empty_database, ledger_db=ledger_db, registry=registry,
            vendors=vendors, reads=reads, query_log=log, channel=channel,
        )
    await revoke_readonly_grants(empty_database)


async def _delete_queues(settings: HubSettings, vendors: Vendors) -> None:
    async with management_api(settings) as api:
        await _delete(api, vendors)


async def _delete(api: ManagementApi, vendors: Vendors) -> None:
    for vendor in vendors.all():
        await api.delete_queue(names.outcome_queue(vendor))


@pytest.fixture
async def make_notifier(office: Office) -> AsyncIterator[MakeNotifier]:
    """A notifier as a (re)started watch builds it: its own hub-database pool and its own
    confirming broker channel. Each call is a new process's notifier, sharing only the
    databases and the broker; ``registry`` stands for an edited registry file."""
    async with AsyncExitStack() as stack:

        async def make(registry: Registry | None = None) -> ChangeNotifier:
            sends = await MySqlChangeSends.open(office.ledger_db, on_query=ignore_query)
            stack.push_async_callback(sends.close)
            connection: AbstractConnection = await aio_pika.connect(
                HubSettings().broker_url.get_secret_value()
            )
            stack.push_async_callback(connection.close)
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            publisher = AmqpPublisher(channel, confirm_timeout_s=CONFIRM_TIMEOUT_S)
            return ChangeNotifier(
                registry=registry or office.registry, sends=sends, publisher=publisher
            )

        yield make
