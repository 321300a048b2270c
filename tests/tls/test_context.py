"""The hub's TLS context itself: what it checks, and the files it cannot use, named."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from hub.settings import HubSettings, TlsSettings
from hub.tls import TlsRefused, client_context
from tests.tls.support import LOCAL


def test_the_context_verifies_chain_and_host_name_from_tls_1_2() -> None:
    # Given the default settings, When the hub builds its context
    context = client_context(LOCAL.hub_tls())
    # Then it checks the chain and the host name, and speaks nothing older than TLS 1.2
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_the_hub_s_databases_carry_its_tls() -> None:
    # Given HUB_TLS__* and the databases' settings, as HubSettings builds them
    tls = LOCAL.hub_tls()
    settings = HubSettings(tls=tls, ledger_db={"tls": True}, od_db={"tls": True})
    # Then each database's settings carry the hub's TLS, and copies keep it
    assert settings.ledger_db.client_tls == tls and settings.od_db.client_tls == tls
    assert settings.ledger_db.model_copy(update={"database": "x"}).client_tls == tls


def test_files_it_cannot_use_are_named(tmp_path: Path) -> None:
    # Given a CA file that does not exist, and a certificate without its key
    missing = TlsSettings(ca_file=tmp_path / "missing.pem")
    lonely = TlsSettings(cert_file=LOCAL.directory / "client.pem")
    # Then building the context fails, naming the setting
    with pytest.raises(TlsRefused, match="cannot read HUB_TLS__CA_FILE"):
        client_context(missing)
    with pytest.raises(TlsRefused, match="set both HUB_TLS__CERT_FILE and HUB_TLS__KEY_FILE"):
        client_context(lonely)
