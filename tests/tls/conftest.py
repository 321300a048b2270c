"""TLS fixtures: another CA (made once per worker), the writer's world reused from
tests/writer/conftest.py, and the simulator served over https with the local CA's certificate."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from odsim.config import CustomerConfig, SimConfig
from odsim.server import SimHandle, running_simulator, server_tls
from tests.tls.support import LOCAL, CertificateAuthority, make_ca
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


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """A CA nobody here trusts, with its own server and client certificates."""
    return make_ca(tmp_path_factory.mktemp("other-ca"))


@pytest.fixture
async def https_simulator(empty_database: str) -> AsyncIterator[SimHandle]:
    """The simulator on https with the local CA's server certificate (127.0.0.1, localhost)."""
    cert, key = LOCAL.server()
    config = SimConfig(customers=(CustomerConfig(key=FULL_KEY, database=empty_database),))
    async with running_simulator(config, port=0, tls=server_tls(cert, key)) as sim:
        yield sim
