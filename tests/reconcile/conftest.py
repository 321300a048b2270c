"""Reconciliation fixtures: the simulator on a throwaway office database, the hub's client and a
read-only connection on it, and a real ledger on a throwaway hub database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from hub.ledger import MySqlLedger, migrate
from hub.opendental import HttpClient, HttpTimeouts, KeyPacer, OfficeApi, OpenDentalClient
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.settings import ApiMode
from odsim.config import DEFAULT_CUSTOMER, DEFAULT_DEVELOPER, CustomerConfig, SimConfig
from odsim.server import SimHandle, running_simulator
from tests.ledger.conftest import settings_for
from tests.opendental.readonly_support import QueryLog, readonly_account
from tests.reconcile.scenarios import OFFICE
from tests.support.mariadb import throwaway_database


@pytest.fixture
async def sim(empty_database: str) -> AsyncIterator[SimHandle]:
    """The simulator serving one office held in a throwaway database (which it prepares)."""
    customer = CustomerConfig(key=DEFAULT_CUSTOMER.key, database=empty_database)
    config = SimConfig(customers=(customer,))
    async with running_simulator(config, port=0) as handle:
        yield handle


@pytest.fixture
async def od(sim: SimHandle) -> AsyncIterator[OpenDentalClient]:
    """The hub's own API client for the office: the writer's only way to create rows."""
    office = OfficeApi(
        office_id=OFFICE, base_url=sim.base_url, developer_key=SecretStr(DEFAULT_DEVELOPER.key),
        customer_key=SecretStr(DEFAULT_CUSTOMER.key), mode=ApiMode.SERVICE,
    )
    pacer = KeyPacer()
    pacer.register(office)
    async with HttpClient(HttpTimeouts(), max_connections=4) as http:
        yield OpenDentalClient(http, office, pacer)


@pytest.fixture
def query_log() -> QueryLog:
    return QueryLog()


@pytest.fixture
async def office_db(
    sim: SimHandle, empty_database: str, query_log: QueryLog
) -> AsyncIterator[ReadOnlyDatabase]:
    """The office database through the SELECT-only account, 5 s statement timeout."""
    async with ReadOnlyDatabase.open(
        readonly_account(empty_database), timeout_s=5.0, max_concurrent=2, observer=query_log
    ) as db:
        yield db


@pytest.fixture
async def ledger() -> AsyncIterator[MySqlLedger]:
    """A real ledger on a migrated throwaway hub database."""
    async with throwaway_database("hub") as name:
        settings = settings_for(name)
        await migrate(settings)
        opened = await MySqlLedger.open(settings)
        try:
            yield opened
        finally:
            await opened.close()


@pytest.fixture
async def pat_num(od: OpenDentalClient) -> int:
    """A patient of the office made before any attempt under test (other name than the tests')."""
    return (await od.create_patient({"LName": "Anchor", "FName": "Ada"})).primary_key
