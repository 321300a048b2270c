"""Every link over TLS at once, with real handshakes: a vendor publishes over AMQPS with the
publisher library; the writer takes it over AMQPS, records it in the hub database over TLS,
applies it through Open Dental's API on https (the simulator with the local CA's certificate)
with the office's database over TLS, and the vendor gets its outcome over AMQPS. Then Open
Dental's API and the management API are each refused when their certificate is not trusted."""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import aclosing

import pytest
from pydantic import SecretStr
from yarl import URL

from adapters.publisher import PublisherConnectError, VendorPublisher, vendor_tls
from contracts import OutcomeStatus
from hub.broker_admin import ManagementError, management_api
from hub.errors import TransientError
from hub.opendental import HttpClient, HttpTimeouts, KeyPacer, OpenDentalClient
from hub.registry import Registry
from hub.settings import HubSettings, TlsSettings
from hub.tls import client_context
from odsim.config import CustomerConfig, SimConfig
from odsim.server import SimHandle, running_simulator, server_tls
from tests.adapters.intents import new_patient
from tests.opendental.conftest import office_api
from tests.tls.support import LOCAL, CertificateAuthority, amqps, over_tls
from tests.writer.conftest import MakeWorld
from tests.writer.support import FULL_KEY, GUARD_S, World, running_worker, unique


def _all_over_tls(world: World, tls: TlsSettings) -> World:
    """The world's writer with every link over TLS: the broker on AMQPS, the hub database and
    each office's database with tls on (the simulator's API is on https already)."""
    settings = world.settings
    world.settings = settings.model_copy(update={
        "broker_url": amqps(settings.broker_url), "tls": tls,
        "ledger_db": over_tls(settings.ledger_db, tls),
    })
    offices = {
        office_id: dataclasses.replace(office, db=dataclasses.replace(office.db, tls=True))
        for office_id, office in world.registry.offices.items()
    }
    world.registry = Registry(offices=offices, vendors=dict(world.registry.vendors))
    return world


async def test_a_vendor_over_amqps_has_its_intent_applied_over_tls_everywhere(
    make_world: MakeWorld, https_simulator: SimHandle,
) -> None:
    # Given the writer with every link over TLS, verified with the local CA, and a vendor
    # connecting over AMQPS with the publisher library, trusting the same CA
    world = _all_over_tls(await make_world(api_url=https_simulator.base_url), LOCAL.hub_tls())
    assert https_simulator.base_url.startswith("https://")
    vendor = world.vendor
    login = URL(amqps(world.settings.broker_url).get_secret_value()).with_user(vendor.name)
    key = unique("k-tls")
    async with (
        running_worker(world),
        VendorPublisher(str(login.with_password(vendor.password)), vendor.name,
                        tls=vendor_tls(LOCAL.ca_file)) as publisher,
        asyncio.timeout(GUARD_S),  # a guard, not a timing
        aclosing(publisher.outcomes()) as outcomes,
    ):
        # When the vendor publishes an intent
        await publisher.publish(new_patient(world.office, key))
        # Then it gets the intent's outcome, over AMQPS too: applied in Open Dental
        event = await anext(outcomes)
    assert (event.idempotency_key, event.status) == (key, OutcomeStatus.APPLIED)
    assert [row.table for row in event.od] == ["patient"]


async def test_a_vendor_not_trusting_the_broker_s_ca_is_refused_clearly(
    make_world: MakeWorld, other_ca: CertificateAuthority,
) -> None:
    # Given a vendor trusting only another CA
    world = await make_world()
    vendor = world.vendor
    login = URL(amqps(world.settings.broker_url).get_secret_value()).with_user(vendor.name)
    # When it connects over AMQPS, Then the library refuses the broker's certificate, saying so
    with pytest.raises(PublisherConnectError) as refused:
        async with VendorPublisher(str(login.with_password(vendor.password)), vendor.name,
                                   tls=vendor_tls(other_ca.ca_file)):
            pass
    said = str(refused.value)
    assert "TLS to the broker at 127.0.0.1:5671 refused the broker's certificate" in said
    assert "certificate verify failed" in said and vendor.password not in said


async def _create_patient(base_url: str, tls: TlsSettings) -> None:
    async with HttpClient(HttpTimeouts(), max_connections=2, tls=client_context(tls)) as http:
        api = office_api(base_url)
        pacer = KeyPacer()
        pacer.register(api)
        client = OpenDentalClient(http, api, pacer)
        await client.create_patient({"LName": "Tls", "FName": "Test"})


async def test_open_dental_on_https_is_verified_with_the_hub_s_ca(
    https_simulator: SimHandle, other_ca: CertificateAuthority,
) -> None:
    # Given Open Dental's API on https, with the local CA's certificate
    # When the hub trusts the local CA, Then a write goes through
    await _create_patient(https_simulator.base_url, LOCAL.hub_tls())
    # When it trusts only another CA, Then the attempt fails before anything was sent, as
    # transient (the lane waits and tries again), naming the office's API and the setting
    with pytest.raises(TransientError) as refused:
        await _create_patient(https_simulator.base_url, other_ca.hub_tls(client=False))
    said = str(refused.value)
    port = URL(https_simulator.base_url).port
    assert f"TLS to office office-1's Open Dental API at 127.0.0.1:{port} refused" in said
    assert "certificate verify failed" in said and "HUB_TLS__CA_FILE" in said
    assert refused.value.maybe_applied is False


async def test_open_dental_at_an_address_its_certificate_lacks_is_refused(
    empty_database: str,
) -> None:
    # Given Open Dental's API on https at 127.0.0.2, an address the certificate does not carry
    cert, key = LOCAL.server()
    config = SimConfig(customers=(CustomerConfig(key=FULL_KEY, database=empty_database),))
    async with running_simulator(config, host="127.0.0.2", tls=server_tls(cert, key)) as sim:
        # When the hub writes there trusting the CA, Then the host name check refuses it
        with pytest.raises(TransientError) as refused:
            await _create_patient(sim.base_url, LOCAL.hub_tls())
    assert "IP address mismatch" in str(refused.value)


async def test_the_management_api_on_https_is_verified_with_the_hub_s_ca(
    https_simulator: SimHandle, other_ca: CertificateAuthority,
) -> None:
    # Given a management URL on https (the https simulator stands in: only the handshake
    # matters here, and this machine's management API is plain http on loopback)
    url = str(URL(https_simulator.base_url).with_path("/"))
    trusted = HubSettings(management_url=url, tls=LOCAL.hub_tls())
    # When the hub trusts the server's CA, Then the request goes through (a 404: no such user)
    async with management_api(trusted) as api:
        assert await api.user("nobody") is None
    # When it trusts only another CA, Then it is refused, naming the link and the setting
    untrusted = HubSettings(management_url=url, tls=other_ca.hub_tls(client=False),
                            management_password=SecretStr("s3cret-pw"))
    async with management_api(untrusted) as api:
        with pytest.raises(ManagementError) as refused:
            await api.user("nobody")
    said = str(refused.value)
    assert "TLS to the management API at 127.0.0.1:" in said
    assert "certificate verify failed" in said and "s3cret-pw" not in said
