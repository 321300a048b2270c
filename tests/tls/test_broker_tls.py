"""The hub's links to RabbitMQ over TLS, with real handshakes against this machine's AMQPS
listener (scripts/local-tls.sh): the broker's certificate is verified against the hub's CA and
its host name, the broker verifies the hub's client certificate, and each refusal says which
link, where, why and which setting decides."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pydantic import SecretStr

from hub.broker_connection import connect_plain, connect_robust
from hub.settings import HubSettings, MySqlSettings, TlsSettings
from hub.tls import TlsRefused, client_context
from tests.adapters.proxy import TcpProxy
from tests.tls.support import LOCAL, ROOT, CertificateAuthority, amqps

HUB = HubSettings()
BROKER = amqps(HUB.broker_url)  # guest/guest over TLS, on 127.0.0.1:5671
PASSWORD = "guest"


async def test_the_hub_connects_to_the_broker_over_tls_with_its_client_certificate() -> None:
    # Given the hub trusting the local CA and showing its client certificate
    tls = LOCAL.hub_tls()
    # When it connects to the AMQPS listener, Then the connection works: a channel opens
    connection = await connect_robust(BROKER, tls)
    async with connection:
        channel = await connection.channel()
        assert not channel.is_closed
    # And a plain (non-robust) connection, as hub dlq opens, does too
    async with await connect_plain(BROKER, tls) as plain:
        assert not (await plain.channel()).is_closed


async def test_a_broker_certificate_from_another_ca_is_refused_clearly(
    other_ca: CertificateAuthority,
) -> None:
    # Given the hub trusting only another CA
    tls = other_ca.hub_tls(client=False)
    # When it connects, Then the broker's certificate is refused, naming the link, where, the
    # setting that decides and OpenSSL's reason, never the password
    with pytest.raises(TlsRefused) as refused:
        await connect_robust(BROKER, tls)
    said = str(refused.value)
    assert "TLS to the broker at 127.0.0.1:5671 refused the server's certificate" in said
    assert "certificate verify failed" in said and "HUB_TLS__CA_FILE" in said
    assert PASSWORD not in said


async def test_a_broker_certificate_for_another_host_name_is_refused() -> None:
    # Given the local CA trusted, but the broker reached as 127.0.0.2, an address its
    # certificate does not carry (it lists localhost and 127.0.0.1), through a TCP forward
    async with _forward("127.0.0.2", "127.0.0.1", 5671) as port:
        url = SecretStr(f"amqps://guest:guest@127.0.0.2:{port}/")
        # When the hub connects, Then the host name check refuses the certificate
        with pytest.raises(TlsRefused) as refused:
            await connect_robust(url, LOCAL.hub_tls())
    said = str(refused.value)
    assert f"TLS to the broker at 127.0.0.2:{port}" in said
    assert "IP address mismatch" in said


async def test_a_client_certificate_from_another_ca_is_refused_by_the_broker(
    other_ca: CertificateAuthority,
) -> None:
    # Given the hub trusting the local CA but showing a client certificate of another CA
    tls = TlsSettings(
        ca_file=LOCAL.ca_file, cert_file=other_ca.directory / "client.pem",
        key_file=other_ca.directory / "client.key",
    )
    # When it connects, Then the broker refuses it, and the error says it was the hub's
    # certificate, naming the settings that decide (under TLS 1.3 the broker's alert races its
    # reset of the connection: either way the message points at the client certificate)
    with pytest.raises(TlsRefused) as refused:
        await connect_robust(BROKER, tls)
    said = str(refused.value)
    assert "TLS to the broker at 127.0.0.1:5671:" in said
    assert "refused the hub's client certificate" in said and "HUB_TLS__CERT_FILE" in said


async def test_with_verification_off_any_certificate_is_taken_and_a_warning_says_so(
    other_ca: CertificateAuthority, caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the hub trusting only another CA, with HUB_TLS__VERIFY=false (a settings value of
    # its own: the context is built once per value)
    tls = TlsSettings(ca_file=other_ca.ca_file, verify=False)
    # When it connects
    with caplog.at_level(logging.WARNING, logger="hub.tls"):
        async with await connect_robust(BROKER, tls) as connection:
            assert not (await connection.channel()).is_closed
    # Then the broker's certificate was not checked, and a warning names every link it affects
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("HUB_TLS__VERIFY is false" in w and "the broker" in w and "Open Dental" in w
               for w in warnings), warnings
    # And the context it built checks nothing
    assert client_context(tls).verify_mode.name == "CERT_NONE"


async def test_a_hub_command_exits_1_naming_the_refused_certificate(
    other_ca: CertificateAuthority, ledger_db: MySqlSettings,
) -> None:
    # Given `hub topology` with the broker over AMQPS and another CA as the only one trusted
    env = {**os.environ, "HUB_BROKER_URL": BROKER.get_secret_value(),
           "HUB_LEDGER_DB__DATABASE": ledger_db.database,
           "HUB_TLS__CA_FILE": str(other_ca.ca_file),
           "HUB_REGISTRY_PATH": str(ROOT / "registry.toml"), "HUB_OD_CUSTOMER_KEY": "x"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from hub.cli import main; main()", "topology", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)  # a guard
    # Then it exits 1, saying which link refused which certificate, and why
    said = err.decode()
    assert process.returncode == 1, said
    assert "TLS to the broker at 127.0.0.1:5671 refused the server's certificate" in said
    assert "certificate verify failed" in said


@asynccontextmanager
async def _forward(listen_host: str, to_host: str, to_port: int) -> AsyncIterator[int]:
    """A TCP forward from ``listen_host`` (a free port, yielded) to ``to_host:to_port``, bytes
    as they are: the TLS handshake goes through it untouched."""
    proxy = TcpProxy(to_host, to_port)
    server = await asyncio.start_server(proxy.handle, listen_host, 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()
        await proxy.closed()
