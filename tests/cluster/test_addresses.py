"""Several broker addresses with none up: every error names each node's host and port, and
never a password. No cluster is started: the addresses are ports nothing listens on."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from adapters.publisher import PublisherConnectError, VendorPublisher
from hub.broker_admin import ManagementError, management_api
from hub.broker_connection import connect_plain, connect_robust
from hub.broker_nodes import BrokerAddressError, failover_order, split_urls, where
from hub.errors import TransientError
from hub.settings import HubSettings
from lab.chaos.processes import free_port

PASSWORD = "s3cret-pw"


def _down(count: int) -> tuple[list[int], str]:
    ports = [free_port() for _ in range(count)]
    return ports, ",".join(f"amqp://hub:{PASSWORD}@127.0.0.1:{port}/" for port in ports)


async def test_the_hub_names_every_node_it_tried() -> None:
    # Given three addresses, none up
    ports, urls = _down(3)
    # When the hub connects, robust or plain
    for connecting in (connect_robust(SecretStr(urls)), connect_plain(SecretStr(urls))):
        with pytest.raises(TransientError) as refused:
            await connecting
        # Then the error names each node, and not the password
        said = str(refused.value)
        assert "any of its 3 nodes" in said
        assert all(f"127.0.0.1:{port}" in said for port in ports), said
        assert PASSWORD not in said


async def test_the_publisher_names_every_node_it_tried() -> None:
    # Given three addresses as a list, none up
    ports, urls = _down(3)
    # When the vendor's publisher opens
    with pytest.raises(PublisherConnectError) as refused:
        async with VendorPublisher(urls.split(","), "acme"):
            pass
    # Then the error names each node, and not the password
    said = str(refused.value)
    assert all(f"127.0.0.1:{port}" in said for port in ports), said
    assert PASSWORD not in said


async def test_the_management_api_names_every_node_it_tried() -> None:
    # Given two management API addresses, none up
    ports = [free_port(), free_port()]
    settings = HubSettings(management_url=",".join(f"http://127.0.0.1:{p}" for p in ports))
    # When the hub asks it anything
    with pytest.raises(ManagementError) as refused:
        async with management_api(settings) as api:
            await api.queue_depths()
    # Then the error names each node
    said = str(refused.value)
    assert all(f"127.0.0.1:{port}" in said for port in ports), said


def test_the_addresses_of_one_cluster_share_login_and_vhost() -> None:
    # Given addresses with two logins; then they are refused, naming hosts, never a password
    with pytest.raises(BrokerAddressError) as refused:
        split_urls(f"amqp://a:{PASSWORD}@h1:5672/,amqp://b:{PASSWORD}@h2:5672/")
    assert "h2:5672" in str(refused.value) and PASSWORD not in str(refused.value)
    # And a single URL is a list of one, with its default port
    assert [where(url) for url in split_urls("amqps://u:p@h1/")] == ["h1:5671"]


def test_each_node_is_tried_once_from_the_first_given() -> None:
    assert failover_order(3, first=1) == [1, 2, 0]
    assert sorted(failover_order(3)) == [0, 1, 2]
