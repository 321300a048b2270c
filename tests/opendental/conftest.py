"""Fixtures for the Open Dental client tests: a real simulator over a throwaway database, the
shared HTTP client, and one OfficeApi per kind of customer key the simulator knows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from pydantic import SecretStr

from hub.opendental import (
    ApiCall,
    HttpClient,
    HttpTimeouts,
    KeyPacer,
    OfficeApi,
    OpenDentalClient,
    Pacer,
)
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.settings import ApiMode
from odsim.config import DEFAULT_CUSTOMER, DEFAULT_DEVELOPER, CustomerConfig, Permission, SimConfig
from odsim.config import ApiMode as SimMode
from odsim.db import DbParams
from odsim.schema import ensure_office_database
from odsim.server import SimHandle, running_simulator
from tests.opendental.readonly_support import QueryLog, readonly_account, revoke_readonly_grants

FULL_KEY = DEFAULT_CUSTOMER.key  # every permission, service mode
READ_ONLY_KEY = "ReadOnlyKey0000A"  # ReadAll only, service mode
REMOTE_KEY = "RemoteKey000000B"  # every permission, remote mode: throttled at 1 request/s


def sim_config(database: str) -> SimConfig:
    return SimConfig(
        customers=(
            CustomerConfig(key=FULL_KEY, database=database),
            CustomerConfig(
                key=READ_ONLY_KEY, database=database, permissions=(Permission.READ_ALL,)
            ),
            CustomerConfig(key=REMOTE_KEY, database=database, mode=SimMode.REMOTE),
        )
    )


@pytest.fixture
async def simulator(empty_database: str) -> AsyncIterator[SimHandle]:
    """The simulator on a free port, serving one office held in a throwaway database."""
    async with running_simulator(sim_config(empty_database), port=0) as sim:
        yield sim


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    """The process-wide HTTP client, with the production timeouts."""
    async with HttpClient(HttpTimeouts(), max_connections=10) as client:
        yield client


def office_api(
    base_url: str,
    customer_key: str = FULL_KEY,
    *,
    mode: ApiMode = ApiMode.SERVICE,
    read_only: bool = False,
    developer_key: str = DEFAULT_DEVELOPER.key,
    page_rows: int | None = None,
) -> OfficeApi:
    return OfficeApi(
        office_id="office-1",
        base_url=base_url,
        developer_key=SecretStr(developer_key),
        customer_key=SecretStr(customer_key),
        mode=mode,
        read_only=read_only,
        page_rows=page_rows,
    )


@dataclass
class RecordingPacer:
    """A pacer that never waits (on purpose, to provoke the throttle) and records deferrals."""

    deferred: list[tuple[str, float]] = field(default_factory=list)

    @asynccontextmanager
    async def slot(self, customer_key: str) -> AsyncIterator[float]:
        yield 0.0

    def defer(self, customer_key: str, seconds: float) -> None:
        self.deferred.append((customer_key, seconds))


@dataclass
class Harness:
    """A client for one office plus every ApiCall it reported."""

    client: OpenDentalClient
    office: OfficeApi
    pacer: Pacer
    calls: list[ApiCall]


MakeHarness = Callable[..., Harness]


@pytest.fixture
def make_harness(http: HttpClient) -> MakeHarness:
    """Build a client over the shared HTTP client: a KeyPacer unless a pacer is given."""

    def make(
        office: OfficeApi, *, pacer: Pacer | None = None,
        client: HttpClient | None = None,
    ) -> Harness:
        if pacer is None:
            key_pacer = KeyPacer()
            key_pacer.register(office)
            pacer = key_pacer
        calls: list[ApiCall] = []
        api = OpenDentalClient(client or http, office, pacer, on_call=calls.append)
        return Harness(client=api, office=office, pacer=pacer, calls=calls)

    return make


@pytest.fixture
def od(simulator: SimHandle, make_harness: MakeHarness) -> Harness:
    """A client for the simulated office with the all-permission service-mode key."""
    return make_harness(office_api(simulator.base_url))


# Read-only SQL (hub/opendental/readonly_sql.py): the office database as the simulator's setup
# leaves it, and a ReadOnlyDatabase on it through the SELECT-only account.


@pytest.fixture
async def office_database(empty_database: str) -> AsyncIterator[str]:
    """The throwaway database with Open Dental's tables, the seed and od_readonly's SELECT grant,
    prepared exactly as the ``simulator`` fixture prepares it (so both may share it)."""
    keys = [customer.key for customer in sim_config(empty_database).customers]
    await ensure_office_database(
        DbParams(), empty_database, dev_name=DEFAULT_DEVELOPER.name, customer_keys=keys
    )
    yield empty_database
    await revoke_readonly_grants(empty_database)


@pytest.fixture
def query_log() -> QueryLog:
    """Every query ``readonly_db`` reports to its observer."""
    return QueryLog()


@pytest.fixture
async def readonly_db(
    office_database: str, query_log: QueryLog
) -> AsyncIterator[ReadOnlyDatabase]:
    """A ReadOnlyDatabase on the office database: 5 s statement timeout, 4 concurrent queries."""
    async with ReadOnlyDatabase.open(
        readonly_account(office_database), timeout_s=5.0, max_concurrent=4, observer=query_log
    ) as db:
        yield db
