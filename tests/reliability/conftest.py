"""Reliability fixtures: the writer's test world (tests/writer/conftest.py), plus the hub's own
Open Dental client on the test's simulator, to make rows the writer did not (twins, anchors)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from hub.opendental import HttpClient, HttpTimeouts, KeyPacer, OfficeApi, OpenDentalClient
from hub.settings import ApiMode
from odsim.config import DEFAULT_DEVELOPER
from odsim.server import SimHandle
from tests.writer.conftest import (
    hub_channel,
    ledger,
    ledger_db,
    make_world,
    management,
    simulator,
)
from tests.writer.support import FULL_KEY

__all__ = ["hub_channel", "ledger", "ledger_db", "make_world", "management", "simulator"]


@pytest.fixture
async def od(simulator: SimHandle) -> AsyncIterator[OpenDentalClient]:
    """The office's API as another program would use it (rows the writer must not credit)."""
    office = OfficeApi(
        office_id="elsewhere", base_url=simulator.base_url,
        developer_key=SecretStr(DEFAULT_DEVELOPER.key), customer_key=SecretStr(FULL_KEY),
        mode=ApiMode.SERVICE,
    )
    pacer = KeyPacer()
    pacer.register(office)
    async with HttpClient(HttpTimeouts(), max_connections=2) as http:
        yield OpenDentalClient(http, office, pacer)
