"""Vendors as broker users: RabbitMQ itself enforces who may publish what and read which queue."""

from __future__ import annotations

import asyncio
import hashlib
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import aiormq
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustChannel
from yarl import URL

from hub import names
from hub.broker_admin import ManagementApi
from hub.registry import Agreement, Registry, Vendor
from hub.settings import HubSettings, MySqlSettings
from hub.topology import declare_office_queue
from hub.vendor_access import (
    VendorAccessError,
    add_registry_vendor,
    add_vendor,
    list_vendors,
    remove_vendor,
)
from tests.support.audit import ALICE, said, trail
from tests.topology.conftest import Created, write_registry
from tests.topology.test_topology import first_message


@dataclass(frozen=True)
class VendorLogin:
    name: str
    password: str
    office: str


NewVendor = Callable[[], Awaitable[VendorLogin]]


def as_vendor(name: str, office: str) -> Vendor:
    agreement = Agreement(office=office, contracts=frozenset({"patient.create"}))
    return Vendor(name=name, agreements=(agreement,))


@pytest.fixture
def new_vendor(
    management: ManagementApi, hub_channel: AbstractRobustChannel, created: Created
) -> NewVendor:
    """Makes a vendor user with an agreement for one new office, whose queue is declared."""

    async def make() -> VendorLogin:
        office, name = created.office(), created.vendor()
        await declare_office_queue(hub_channel, office)
        added = await add_vendor(management, hub_channel, as_vendor(name, office))
        assert added.created and added.password is not None
        return VendorLogin(name, added.password.get_secret_value(), office)

    return make


def vendor_url(settings: HubSettings, name: str, password: str) -> str:
    url = URL(settings.broker_url.get_secret_value())
    return str(url.with_user(name).with_password(password))


@asynccontextmanager
async def vendor_channel(
    settings: HubSettings, login: VendorLogin
) -> AsyncIterator[AbstractChannel]:
    """A plain (not robust) channel as the vendor: a refusal must close it for good."""
    url = vendor_url(settings, login.name, login.password)
    async with await aio_pika.connect(url) as connection:
        yield await connection.channel(publisher_confirms=True)


async def ignore(message: AbstractIncomingMessage) -> None:
    """A consumer callback for consumptions that must be refused before any delivery."""


async def publish(channel: AbstractChannel, exchange: str, key: str, user_id: str) -> object:
    target = await channel.get_exchange(exchange, ensure=False)  # a passive declare needs no right
    return await target.publish(aio_pika.Message(b"{}", user_id=user_id), key)


async def test_a_vendor_publishes_intents_for_its_office_under_its_own_name(
    settings: HubSettings, hub_channel: AbstractRobustChannel, new_vendor: NewVendor
) -> None:
    # Given a vendor with an agreement for one office
    vendor = await new_vendor()

    # When it publishes an intent for that office as itself
    async with vendor_channel(settings, vendor) as channel:
        key = names.intent_key(vendor.office, "patient.create")
        confirmed = await publish(channel, names.INTENTS_EXCHANGE, key, vendor.name)

    # Then the broker confirms it and the office queue holds it, with the vendor's name proven
    assert isinstance(confirmed, aiormq.spec.Basic.Ack)
    message = await first_message(hub_channel, names.office_queue(vendor.office))
    assert (message.user_id, message.routing_key) == (vendor.name, key)


async def test_a_vendor_cannot_publish_for_another_office(
    settings: HubSettings, new_vendor: NewVendor
) -> None:
    # Given two vendors, each with its own office
    vendor, other = await new_vendor(), await new_vendor()

    # When the first publishes with the other office's routing key, Then the broker refuses it
    async with vendor_channel(settings, vendor) as channel:
        key = names.intent_key(other.office, "patient.create")
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await publish(channel, names.INTENTS_EXCHANGE, key, vendor.name)


async def test_a_vendor_cannot_claim_another_vendors_name(
    settings: HubSettings, new_vendor: NewVendor
) -> None:
    # Given two vendors
    vendor, other = await new_vendor(), await new_vendor()

    # When the first publishes for its own office with user_id set to the other's name
    async with vendor_channel(settings, vendor) as channel:
        key = names.intent_key(vendor.office, "patient.create")

        # Then the broker refuses it: the origin is proven, not claimed
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
            await publish(channel, names.INTENTS_EXCHANGE, key, other.name)


async def test_a_vendor_cannot_publish_outcomes(
    settings: HubSettings, new_vendor: NewVendor
) -> None:
    # Given a vendor
    vendor = await new_vendor()

    # When it publishes to the outcomes exchange, Then the broker refuses it
    async with vendor_channel(settings, vendor) as channel:
        key = names.outcome_key(vendor.name, vendor.office, "patient.create", "applied")
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await publish(channel, names.OUTCOMES_EXCHANGE, key, vendor.name)


async def test_a_vendor_reads_its_own_outcomes(
    settings: HubSettings, hub_channel: AbstractRobustChannel, new_vendor: NewVendor
) -> None:
    # Given a vendor and an outcome the hub published for it
    vendor = await new_vendor()
    outcomes = await hub_channel.get_exchange(names.OUTCOMES_EXCHANGE)
    key = names.outcome_key(vendor.name, vendor.office, "patient.create", "applied")
    await outcomes.publish(aio_pika.Message(b"applied"), key, mandatory=True)

    # When the vendor consumes its outcome queue
    async with vendor_channel(settings, vendor) as channel:
        message = await first_message(channel, names.outcome_queue(vendor.name))

    # Then it receives the outcome
    assert (message.routing_key, message.body) == (key, b"applied")


async def test_a_vendor_cannot_read_another_vendors_outcomes_or_an_office_queue(
    settings: HubSettings, new_vendor: NewVendor
) -> None:
    # Given two vendors
    vendor, other = await new_vendor(), await new_vendor()
    forbidden = (names.outcome_queue(other.name), names.office_queue(vendor.office))

    for queue_name in forbidden:
        # When the first consumes the other's outcome queue, or its own office's intent queue
        async with vendor_channel(settings, vendor) as channel:
            queue = await channel.get_queue(queue_name, ensure=False)

            # Then the broker refuses it
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                await queue.consume(ignore)


async def test_a_removed_vendor_is_disconnected_and_can_no_longer_log_in(
    settings: HubSettings, management: ManagementApi, new_vendor: NewVendor
) -> None:
    # Given a vendor, connected
    vendor = await new_vendor()
    url = vendor_url(settings, vendor.name, vendor.password)
    connection = await aio_pika.connect(url)
    disconnected = asyncio.Event()
    connection.close_callbacks.add(lambda *_: disconnected.set())

    # When it is removed with its outcome queue
    removed = await remove_vendor(management, vendor.name, delete_queue=True)

    # Then the broker closes its connection, its login fails and its queue is gone
    assert removed
    async with asyncio.timeout(10):  # a guard, not an assertion
        await disconnected.wait()
    await connection.close()
    with pytest.raises(aiormq.exceptions.ProbableAuthenticationError):
        await aio_pika.connect(url)
    assert await management.queue(names.outcome_queue(vendor.name)) is None
    # And removing it again finds nothing
    assert not await remove_vendor(management, vendor.name)


async def test_adding_again_keeps_the_password_unless_rotated(
    settings: HubSettings,
    management: ManagementApi,
    hub_channel: AbstractRobustChannel,
    new_vendor: NewVendor,
) -> None:
    # Given a vendor
    vendor = await new_vendor()

    # When it is added again, Then it keeps its password
    again = await add_vendor(management, hub_channel, as_vendor(vendor.name, vendor.office))
    assert (again.created, again.password) == (False, None)
    async with vendor_channel(settings, vendor):
        pass

    # When it is added with a password rotation, Then only the new password logs in
    rotated = await add_vendor(
        management, hub_channel, as_vendor(vendor.name, vendor.office), rotate_password=True
    )
    assert rotated.password is not None
    with pytest.raises(aiormq.exceptions.ProbableAuthenticationError):
        await aio_pika.connect(vendor_url(settings, vendor.name, vendor.password))
    new_login = VendorLogin(vendor.name, rotated.password.get_secret_value(), vendor.office)
    async with vendor_channel(settings, new_login):
        pass


async def test_the_hub_never_changes_a_user_it_does_not_manage(
    management: ManagementApi, hub_channel: AbstractRobustChannel, created: Created
) -> None:
    # Given the broker's own guest user (its tags are the broker setup's: administrator, and
    # impersonator from scripts/setup-broker.sh)
    before = await management.user("guest")
    # When it is added or removed as a vendor, Then both are refused and guest is unchanged
    with pytest.raises(VendorAccessError, match="'guest' is not a hub vendor"):
        await add_vendor(management, hub_channel, as_vendor("guest", created.office()))
    with pytest.raises(VendorAccessError, match="'guest' is not a hub vendor"):
        await remove_vendor(management, "guest")
    guest = await management.user("guest")
    assert guest is not None and guest == before and "administrator" in guest.tags


async def test_list_shows_each_vendors_offices_and_whether_the_registry_knows_it(
    management: ManagementApi, new_vendor: NewVendor, created: Created
) -> None:
    # Given a vendor user the registry knows, one it does not, and a registry vendor with no user
    known, unknown = await new_vendor(), await new_vendor()
    missing = created.vendor()
    vendors = {name: as_vendor(name, known.office) for name in (known.name, missing)}
    registry = Registry(offices={}, vendors=vendors)

    # When the vendors are listed
    rows = {row.name: row for row in await list_vendors(management, registry)}

    # Then each shows the offices the broker lets it publish for, its user and registry status
    assert (rows[known.name].offices, rows[known.name].has_user) == ((known.office,), True)
    assert rows[known.name].in_registry
    assert (rows[unknown.name].has_user, rows[unknown.name].in_registry) == (True, False)
    assert (rows[missing].offices, rows[missing].has_user, rows[missing].in_registry) == (
        (),
        False,
        True,
    )


async def test_hub_vendor_add_saves_the_password_to_a_private_file(
    settings: HubSettings, tmp_path: Path, created: Created, hub_db: MySqlSettings
) -> None:
    # Given a registry file with one office and one vendor, and a hub database (no pause in it)
    office, name = created.office(), created.vendor()
    registry = write_registry(tmp_path / "registry.toml", office, name)
    password_file = tmp_path / "password"

    # When the vendor is added through the registry with a password file
    added = await add_registry_vendor(
        settings.model_copy(update={"registry_path": registry, "ledger_db": hub_db}),
        {},
        name,
        operator=ALICE,
        password_file=password_file,
    )

    # Then the file is private and holds the password that logs in
    assert added.offices == (office,)
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    login = VendorLogin(name, password_file.read_text().strip(), office)
    async with vendor_channel(settings, login):
        pass
    # And the audit trail has the registry load (with the file's hash), then the vendor's add,
    # whose details and outcome hold no password
    load, add = await trail(hub_db)
    assert said([load, add]) == [
        ("registry_load", str(registry.absolute()), "ok", None), ("vendor_add", name, "ok", None)
    ]
    sha256 = hashlib.sha256(registry.read_bytes()).hexdigest()
    assert load.details == {"sha256": sha256, "command": "hub vendor add"}
    assert load.outcome == {"offices": 1, "vendors": 1}
    assert (add.operator, add.details) == ("Alice Ops", {"password": "keep"})
    assert add.outcome == {
        "created": True, "offices": [office], "paused": False, "password_set": True
    }
    assert login.password not in repr([load, add])
