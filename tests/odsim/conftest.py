"""Fixtures for the simulator's tests: a real simulator on a free port over a throwaway office
database, keys of every kind, an httpx client per key, and root reads of the office tables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiomysql
import httpx
import pytest
from pydantic import SecretStr

from odsim.config import (
    DEFAULT_CUSTOMER,
    DEFAULT_DEVELOPER,
    ApiMode,
    CustomerConfig,
    DeveloperConfig,
    PagingConfig,
    Permission,
    SimConfig,
)
from odsim.db import DbParams, connect
from odsim.server import SimHandle, running_simulator
from odsim.throttle import ThrottleConfig

FULL_KEY = DEFAULT_CUSTOMER.key  # every permission group, service mode
READ_ONLY_KEY = "ReadOnlyKey00001"
REMOTE_KEY = "RemoteKey0000001"
DISABLED_KEY = "DisabledKey00001"
OTHER_DEV = DeveloperConfig(key="OtherDevKey00001", name="Other Vendor")
OTHER_DEV_KEY = "OtherDevCustKey1"  # the same office, reached through the other developer
DEV_KEY = DEFAULT_DEVELOPER.key
# Small page maxima so paging and the cap are visible with a few rows.
PAGING = PagingConfig(remote_max=3, service_max=5)
# The SecurityHash key, known here so tests can check the hashes the simulator writes.
HASH_SECRET = "test-security-hash-secret"


def key_without(permission: Permission) -> str:
    return f"Without{permission.value}"


def sim_config(database: str) -> SimConfig:
    groups = tuple(Permission)
    return SimConfig(
        developers=(DEFAULT_DEVELOPER, OTHER_DEV),
        customers=(
            CustomerConfig(key=FULL_KEY, database=database),
            CustomerConfig(key=READ_ONLY_KEY, database=database,
                           permissions=(Permission.READ_ALL,)),
            CustomerConfig(key=REMOTE_KEY, database=database, mode=ApiMode.REMOTE),
            CustomerConfig(key=DISABLED_KEY, database=database, enabled=False),
            CustomerConfig(key=OTHER_DEV_KEY, database=database, developer=OTHER_DEV.key),
            *(
                CustomerConfig(key=key_without(p), database=database,
                               permissions=tuple(g for g in groups if g != p))
                for p in groups
            ),
        ),
        paging=PAGING,
        throttle=ThrottleConfig(interval_s=0, read_only_interval_s=0),  # paging, not pacing
        security_hash_secret=SecretStr(HASH_SECRET),
    )


def auth(customer_key: str = FULL_KEY, developer_key: str = DEV_KEY) -> dict[str, str]:
    return {"Authorization": f"ODFHIR {developer_key}/{customer_key}"}


@dataclass(frozen=True, kw_only=True)
class Office:
    sim: SimHandle
    database: str

    def client(
        self, customer_key: str = FULL_KEY, developer_key: str = DEV_KEY
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.sim.base_url,
                                 headers=auth(customer_key, developer_key))

    async def rows(self, sql: str, *params: object) -> list[dict[str, Any]]:
        """Rows read as root straight from the office database, as Open Dental stores them."""
        conn = await connect(DbParams(), self.database)
        try:
            async with conn.cursor(aiomysql.DictCursor) as cur:
                await cur.execute(sql, params)
                return list(await cur.fetchall())
        finally:
            conn.close()

    @property
    def admin_url(self) -> str:
        """The root of the simulator's admin routes (``/admin/...``)."""
        return self.sim.base_url.removesuffix("/api/v1")

    async def row(self, sql: str, *params: object) -> dict[str, Any]:
        rows = await self.rows(sql, *params)
        assert len(rows) == 1, rows
        return rows[0]


@pytest.fixture
async def office(empty_database: str) -> AsyncIterator[Office]:
    """The simulator on a free port, serving one seeded office in a throwaway database."""
    async with running_simulator(sim_config(empty_database)) as sim:
        yield Office(sim=sim, database=empty_database)


@pytest.fixture
async def api(office: Office) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding the full-permission customer key."""
    async with office.client() as client:
        yield client


NewPatient = Callable[..., Any]


@pytest.fixture
def new_patient(api: httpx.AsyncClient) -> NewPatient:
    """POST a patient (fake data) and return its PatNum."""

    async def create(**fields: object) -> int:
        body = {"LName": "Testperson", "FName": "Alex", **fields}
        response = await api.post("/patients", json=body)
        assert response.status_code == 201, response.text
        pat_num: int = response.json()["PatNum"]
        return pat_num

    return create
