"""Trace fixtures: a migrated throwaway ledger, the simulator on a throwaway office database, a
registry file naming that office, and ``hub trace`` run in-process with HUB_* pointing at them.

Rows are made through the simulator's HTTP API by the hub's own client, and the ledger is filled
through ``MySqlLedger`` as the writer fills it (``writer_steps``): nothing is inserted by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from hub.cli import app
from hub.ledger import MySqlLedger, migrate
from hub.opendental import HttpClient, HttpTimeouts, OfficeApi
from hub.settings import ApiMode, MySqlSettings
from odsim.config import (
    DEFAULT_CUSTOMER,
    DEFAULT_DEVELOPER,
    CustomerConfig,
    DeveloperConfig,
    SimConfig,
)
from odsim.server import SimHandle, running_simulator
from tests.support.mariadb import ROOT, throwaway_database
from tests.trace.writer_steps import LedgerWriter

OFFICE = "office-1"
OD_PASSWORD_ENV = "TRACE_TEST_OD_DB_PASSWORD"
CUSTOMER_KEY_ENV = "TRACE_TEST_CUSTOMER_KEY"
# Another program the office uses, with its own developer key: its writes are not the hub's.
OTHER_DEVELOPER = DeveloperConfig(key="OtherDevKey0000A", name="Front Desk Kiosk")
OTHER_CUSTOMER_KEY = "OtherCustomer00B"

OFFICE_ENTRY = """
[[offices]]
id = "{office}"
api_url = "{api_url}"
mode = "service"
customer_key_env = "{customer_key_env}"

[offices.db]
host = "127.0.0.1"
port = 3306
database = "{database}"
user = "od_readonly"
password_env = "{password_env}"
"""
VENDORS = """
[[vendors]]
name = "forms-co"

[[vendors.agreements]]
office = "office-1"
contracts = ["patient.create", "patient.update"]

[[vendors]]
name = "crm-co"

[[vendors.agreements]]
office = "office-1"
contracts = ["patient.update"]
"""

Trace = Callable[..., Awaitable[Result]]


@dataclass(frozen=True, kw_only=True)
class Office:
    sim: SimHandle
    database: str
    api: OfficeApi


@pytest.fixture
async def ledger_db() -> AsyncIterator[MySqlSettings]:
    async with throwaway_database("trace_ledger") as name:
        # Every field explicit: MySqlSettings would otherwise read bare USER/HOST/... variables.
        settings = MySqlSettings(
            host=ROOT.host, port=ROOT.port, user=ROOT.user, password=ROOT.password, database=name
        )
        await migrate(settings)
        yield settings


@pytest.fixture
async def ledger(ledger_db: MySqlSettings) -> AsyncIterator[MySqlLedger]:
    opened = await MySqlLedger.open(ledger_db)
    yield opened
    await opened.close()


@pytest.fixture
async def office() -> AsyncIterator[Office]:
    """The simulator serving office-1 from a throwaway database (od_readonly may SELECT it), to
    the hub's developer key and to another program's."""
    async with throwaway_database("trace_od") as database:
        config = SimConfig(
            developers=(DEFAULT_DEVELOPER, OTHER_DEVELOPER),
            customers=(
                CustomerConfig(
                    key=DEFAULT_CUSTOMER.key, database=database, developer=DEFAULT_DEVELOPER.key
                ),
                CustomerConfig(
                    key=OTHER_CUSTOMER_KEY, database=database, developer=OTHER_DEVELOPER.key
                ),
            ),
        )
        async with running_simulator(config, port=0) as sim:
            api = OfficeApi(
                office_id=OFFICE, base_url=sim.base_url,
                developer_key=SecretStr(DEFAULT_DEVELOPER.key),
                customer_key=SecretStr(DEFAULT_CUSTOMER.key), mode=ApiMode.SERVICE,
            )
            yield Office(sim=sim, database=database, api=api)


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    async with HttpClient(HttpTimeouts(), max_connections=4) as client:
        yield client


@pytest.fixture
async def other_program(office: Office) -> AsyncIterator[httpx.AsyncClient]:
    """The office's other program, writing through the API with its own keys, not the hub."""
    auth = f"ODFHIR {OTHER_DEVELOPER.key}/{OTHER_CUSTOMER_KEY}"
    async with httpx.AsyncClient(
        base_url=office.sim.base_url, headers={"Authorization": auth}
    ) as client:
        yield client


@pytest.fixture
def writer(ledger: MySqlLedger, office: Office, http: HttpClient) -> LedgerWriter:
    return LedgerWriter(ledger=ledger, office=office.api, http=http)


def registry_text(office: Office, *extra_office_ids: str) -> str:
    entries = [
        OFFICE_ENTRY.format(
            office=office_id, api_url=office.sim.base_url, database=office.database,
            customer_key_env=CUSTOMER_KEY_ENV, password_env=OD_PASSWORD_ENV,
        )
        for office_id in (OFFICE, *extra_office_ids)
    ]
    return "".join(entries) + VENDORS


@pytest.fixture
def registry_file(tmp_path: Path, office: Office) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(registry_text(office), encoding="utf-8")
    return path


@pytest.fixture
def trace(ledger_db: MySqlSettings, registry_file: Path) -> Trace:
    """Run ``hub trace ARGS`` in-process, in a thread with its own event loop (the command runs
    ``asyncio.run``), while the simulator keeps serving in the test's loop."""

    async def run(*args: str, od_password: str = "od_readonly") -> Result:
        env = {
            "HUB_LEDGER_DB__HOST": ledger_db.host,
            "HUB_LEDGER_DB__PORT": str(ledger_db.port),
            "HUB_LEDGER_DB__USER": ledger_db.user,
            "HUB_LEDGER_DB__PASSWORD": ledger_db.password.get_secret_value(),
            "HUB_LEDGER_DB__DATABASE": ledger_db.database,
            "HUB_REGISTRY_PATH": str(registry_file),
            CUSTOMER_KEY_ENV: DEFAULT_CUSTOMER.key,
            OD_PASSWORD_ENV: od_password,
        }
        return await asyncio.to_thread(lambda: CliRunner().invoke(app, ["trace", *args], env=env))

    return run
