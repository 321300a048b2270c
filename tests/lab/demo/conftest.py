"""The demo's world, apart from a developer's manual runs: the shipped registry rewritten with
unique vendor and office names, a free port and a throwaway Open Dental database; a throwaway
ledger. At teardown the vendor users, their queues, the office queue and the office's dead
letters (purged with ``hub dlq``'s own tool, never other tests' letters) are removed."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub import names
from hub.broker_admin import management_api
from hub.dlq import DeadLetterFilter, Operator, PurgePlan, purge_dead_letters
from hub.settings import HubSettings, MySqlSettings
from lab.demo import Cast, DemoConfig
from tests.support.mariadb import ROOT, throwaway_database

SHIPPED_REGISTRY = Path(__file__).resolve().parents[3] / "registry.toml"
OUTCOME_TIMEOUT_S = 30.0  # a guard: a broken writer fails the test instead of hanging it


@dataclass(frozen=True, kw_only=True)
class DemoWorld:
    config: DemoConfig
    od_database: str
    port: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rewritten_registry(cast: Cast, *, port: int, od_database: str) -> str:
    """The shipped registry with the test's names: its agreements are what the demo relies on."""
    text = SHIPPED_REGISTRY.read_text(encoding="utf-8")
    swaps = {
        '"office-1"': f'"{cast.office}"',
        '"demo-forms"': f'"{cast.forms}"',
        '"demo-reminders"': f'"{cast.reminders}"',
        "127.0.0.1:30223": f"127.0.0.1:{port}",
        'database = "opendental"': f'database = "{od_database}"',
    }
    for old, new in swaps.items():
        assert old in text, f"the shipped registry no longer holds {old}"
        text = text.replace(old, new)
    return text


async def _yes(plan: PurgePlan) -> bool:
    return True


async def _clean_broker(settings: HubSettings, cast: Cast) -> None:
    await purge_dead_letters(
        settings, DeadLetterFilter(office=cast.office, limit=1000),
        operator=Operator(os_user=None, name="tests/lab/demo"), confirm=_yes,
    )
    async with management_api(settings) as api:
        for vendor in (cast.forms, cast.reminders):
            await api.delete_user(vendor)
            await api.delete_queue(names.outcome_queue(vendor))
        await api.delete_queue(names.office_queue(cast.office))


@asynccontextmanager
async def demo_world(tmp_path: Path, od_database: str) -> AsyncIterator[DemoWorld]:
    """The demo's world on ``od_database`` (empty), its registry written under ``tmp_path``."""
    tag = uuid.uuid4().hex[:8]
    cast = Cast(
        office=f"t-demo-{tag}", foreign_office=f"t-demo-{tag}-other",
        forms=f"t-forms-{tag}", reminders=f"t-reminders-{tag}",
    )
    port = free_port()
    registry = tmp_path / "registry.toml"
    registry.write_text(rewritten_registry(cast, port=port, od_database=od_database))
    async with throwaway_database("tdemo") as ledger_name:
        ledger = MySqlSettings(
            host=ROOT.host, port=ROOT.port, user=ROOT.user, password=ROOT.password,
            database=ledger_name,
        )
        settings = HubSettings(registry_path=registry, ledger_db=ledger)
        config = DemoConfig(settings=settings, cast=cast, outcome_timeout_s=OUTCOME_TIMEOUT_S)
        try:
            yield DemoWorld(config=config, od_database=od_database, port=port)
        finally:
            await _clean_broker(settings, cast)


@pytest.fixture
async def world(tmp_path: Path, empty_database: str) -> AsyncIterator[DemoWorld]:
    async with demo_world(tmp_path, empty_database) as made:
        yield made
