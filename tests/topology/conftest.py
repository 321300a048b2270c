"""Broker fixtures: a robust hub channel, the management API, and unique names cleaned up after;
a throwaway hub database and a registry file for the commands that read them (`hub vendor add`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aio_pika.abc import AbstractRobustChannel

from hub import names
from hub.broker_admin import ManagementApi
from hub.settings import MySqlSettings

# Shared fixtures: imported here, pytest offers them to the tests below (`x as x` re-exports).
from tests.support.broker import hub_channel as hub_channel
from tests.support.broker import management as management
from tests.support.broker import settings as settings
from tests.support.mariadb import ROOT, throwaway_database


class Created:
    """Unique office and vendor names for one test; their queues and users go at teardown."""

    def __init__(self) -> None:
        self.offices: list[str] = []
        self.vendors: list[str] = []

    def office(self) -> str:
        self.offices.append(f"t-office-{uuid.uuid4().hex[:10]}")
        return self.offices[-1]

    def vendor(self) -> str:
        self.vendors.append(f"t-vendor-{uuid.uuid4().hex[:10]}")
        return self.vendors[-1]


@pytest.fixture
async def hub_db() -> AsyncIterator[MySqlSettings]:
    """A throwaway hub database (the commands that read pauses migrate it first)."""
    async with throwaway_database("tt") as name:
        yield ROOT.model_copy(update={"database": name})


def write_registry(path: Path, office: str, vendor: str) -> Path:
    """A registry file with one office and one vendor agreed for it; ``path`` back."""
    path.write_text(
        f'[[offices]]\nid = "{office}"\napi_url = "http://127.0.0.1:30223/api/v1"\n'
        'mode = "service"\ncustomer_key_env = "HUB_OD_CUSTOMER_KEY"\n'
        '[offices.db]\nhost = "127.0.0.1"\ndatabase = "opendental"\nuser = "od_readonly"\n'
        'password_env = "HUB_OD_DB__PASSWORD"\n'
        f'[[vendors]]\nname = "{vendor}"\n'
        f'[[vendors.agreements]]\noffice = "{office}"\ncontracts = ["patient.create"]\n'
    )
    return path


@pytest.fixture
async def created(
    management: ManagementApi, hub_channel: AbstractRobustChannel
) -> AsyncIterator[Created]:
    made = Created()
    yield made
    # The hub channel goes first: a robust channel the broker closed reopens by itself and
    # declares again the queues it declared, which could bring a deleted queue back.
    await hub_channel.close()
    # Through the management API: a test may leave its AMQP channel closed by the broker.
    for office in made.offices:
        await management.delete_queue(names.office_queue(office))
    for vendor in made.vendors:
        await management.delete_user(vendor)
        await management.delete_queue(names.outcome_queue(vendor))
