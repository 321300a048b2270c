"""Fixtures for ``hub dlq``: a private dead-letter queue per test, never ``hub.dead``.

Each test gets its own exchanges and queues, all named ``t.dlq.<hex>.*`` (a dead-letter exchange
and quorum queue shaped like ``hub.dlx``/``hub.dead``, an intents exchange with one office queue,
a poison queue), broker users allowed only on those names, and unique office names; all of it
is deleted at teardown through the management API.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, FieldValue
from pydantic import SecretStr
from yarl import URL

from hub import names
from hub.broker_admin import ManagementApi, Permissions, management_api
from hub.dlq import DlqNames
from hub.ledger import migrate
from hub.settings import HubSettings, MySqlSettings
from hub.topology import quorum_queue_arguments
from tests.ledger.conftest import settings_for


@dataclass(frozen=True, kw_only=True)
class Stage:
    """One test's broker objects and offices."""

    prefix: str  # every object's name starts with it
    offices: tuple[str, str, str]  # O1, O2 for the writer's dead letters; O3 for the poison

    @property
    def dlx(self) -> str:
        return f"{self.prefix}dlx"

    @property
    def dead(self) -> str:
        return f"{self.prefix}dead"

    @property
    def intents(self) -> str:
        return f"{self.prefix}intents"

    @property
    def office_queue(self) -> str:
        """Bound to O1 and O2 on the test's intents exchange (a replay's destination)."""
        return f"{self.prefix}office"

    @property
    def poison_queue(self) -> str:
        """Bound to O3, delivery limit 1, dead-lettering to the test's DLX."""
        return f"{self.prefix}poison"

    @property
    def where(self) -> DlqNames:
        return DlqNames(queue=self.dead, intents_exchange=self.intents)

    @property
    def queues(self) -> tuple[str, str, str]:
        return (self.dead, self.office_queue, self.poison_queue)


@dataclass(frozen=True, kw_only=True)
class Login:
    name: str
    password: str

    def url(self, base: HubSettings) -> SecretStr:
        url = URL(base.broker_url.get_secret_value()).with_user(self.name)
        return SecretStr(str(url.with_password(self.password)))


@pytest.fixture
async def management() -> AsyncIterator[ManagementApi]:
    async with management_api(HubSettings()) as api:
        yield api


@pytest.fixture
async def stage(management: ManagementApi) -> AsyncIterator[Stage]:
    hex_ = uuid.uuid4().hex[:10]
    made = Stage(
        prefix=f"t.dlq.{hex_}.",
        offices=(f"t-o1-{hex_}", f"t-o2-{hex_}", f"t-o3-{hex_}"),
    )
    async with await aio_pika.connect(HubSettings().broker_url.get_secret_value()) as connection:
        await _declare(await connection.channel(), made)
        yield made
        channel = await connection.channel()
        for queue in made.queues:
            await management.delete_queue(queue)
        for exchange in (made.dlx, made.intents):
            await channel.exchange_delete(exchange)


async def _declare(channel: AbstractChannel, stage: Stage) -> None:
    """``hub.dlx``/``hub.dead`` in small: a topic exchange into a quorum queue on ``#``."""
    arguments: dict[str, FieldValue] = {"x-queue-type": quorum_queue_arguments()["x-queue-type"]}
    dlx = await channel.declare_exchange(stage.dlx, aio_pika.ExchangeType.TOPIC, durable=True)
    dead = await channel.declare_queue(stage.dead, durable=True, arguments=arguments)
    await dead.bind(dlx, "#")
    intents = await channel.declare_exchange(
        stage.intents, aio_pika.ExchangeType.TOPIC, durable=True
    )
    office = await channel.declare_queue(stage.office_queue, durable=True, arguments=arguments)
    for name in stage.offices[:2]:
        await office.bind(intents, names.office_binding(name))
    poison_arguments: dict[str, FieldValue] = {
        **arguments,
        "x-delivery-limit": 1,
        "x-dead-letter-exchange": stage.dlx,
        "x-dead-letter-routing-key": names.dead_letter_key(stage.offices[2]),
    }
    poison = await channel.declare_queue(
        stage.poison_queue, durable=True, arguments=poison_arguments
    )
    await poison.bind(intents, names.office_binding(stage.offices[2]))


async def _user(
    management: ManagementApi, stage: Stage, tags: tuple[str, ...]
) -> AsyncIterator[Login]:
    login = Login(name=f"t-dlq-{uuid.uuid4().hex[:10]}", password=uuid.uuid4().hex)
    await management.put_user(login.name, SecretStr(login.password), tags)
    mine = f"^{re.escape(stage.prefix)}"
    await management.set_permissions(login.name, Permissions(configure=mine, write=mine, read=mine))
    yield login
    await management.delete_user(login.name)


@pytest.fixture
async def impersonator(management: ManagementApi, stage: Stage) -> AsyncIterator[Login]:
    """A broker user with RabbitMQ's impersonator tag: may publish with any user_id."""
    async for login in _user(management, stage, ("impersonator",)):
        yield login


@pytest.fixture
async def plain_user(management: ManagementApi, stage: Stage) -> AsyncIterator[Login]:
    """A broker user without the tag: may publish only as itself."""
    async for login in _user(management, stage, ()):
        yield login


@pytest.fixture
async def as_impersonator(impersonator: Login) -> AsyncIterator[AbstractConnection]:
    """A connection as the impersonator, to fill the test's queue with vendors' messages."""
    url = impersonator.url(HubSettings()).get_secret_value()
    async with await aio_pika.connect(url) as connection:
        yield connection


@pytest.fixture
async def ledger_db(empty_database: str) -> MySqlSettings:
    """A throwaway ledger database, migrated (``dlq_purges`` included)."""
    settings = settings_for(empty_database)
    await migrate(settings)
    return settings


@pytest.fixture
def replay_settings(impersonator: Login, ledger_db: MySqlSettings) -> HubSettings:
    """What `hub dlq replay` runs with here: the impersonator's broker login, the ledger."""
    return HubSettings(broker_url=impersonator.url(HubSettings()), ledger_db=ledger_db)
