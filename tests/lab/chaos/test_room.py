"""A chaos run MariaDB has no room for is refused before anything starts, saying how many
connections it needs and how to make room; one it has room for goes on (real MariaDB). Each
office has a database of its own unless the run is told fewer."""

from __future__ import annotations

import pytest

from hub.settings import HubSettings
from lab.chaos.config import ChaosConfig, ChaosError
from lab.chaos.databases import check_connections
from lab.chaos.stack import connections_needed


def test_a_run_s_need_grows_with_its_writers_and_offices() -> None:
    small = ChaosConfig(settings=HubSettings(), offices=4, writers=1)
    fleet = ChaosConfig(settings=HubSettings(), offices=60, writers=3, join_at_s=25.0)
    # Four writers (three and the one joining), each one to every office database and its
    # ledger pool of 16, the simulator and the watch one each, and a few of the run's own
    assert connections_needed(fleet) == 4 * (60 + 16) + 2 * 60 + 20
    assert connections_needed(small) < connections_needed(fleet)


async def test_a_run_the_server_has_no_room_for_is_refused_with_what_it_needs() -> None:
    account = HubSettings().ledger_db
    with pytest.raises(ChaosError, match=r"needs about 1000000 .*Raise max_connections"):
        await check_connections(account, 1_000_000)
    await check_connections(account, 1)


def test_each_office_has_a_database_of_its_own_unless_told_fewer() -> None:
    assert ChaosConfig(settings=HubSettings(), offices=60).office_databases == 60
    assert ChaosConfig(settings=HubSettings(), offices=60, databases=4).office_databases == 4
    assert ChaosConfig(settings=HubSettings(), offices=3, databases=4).office_databases == 3
    with pytest.raises(ValueError, match="databases, rates and timeouts must be positive"):
        ChaosConfig(settings=HubSettings(), databases=0)
