"""The hub's MariaDB links over TLS, with real handshakes against this machine's MariaDB (TLS with
the local CA, scripts/local-tls.sh): the hub database (the ledger's pool, migrations) and an
office's read-only database. A session shows the TLS version it runs on; a server certificate
from another CA is refused, naming the link and the setting that decides."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import TransientError
from hub.ledger import MySqlLedger, migrate
from hub.ledger.mysql_session import MySqlSession, ignore_query
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.registry import load_registry
from hub.settings import HubSettings, MySqlSettings
from hub.tls import TlsRefused
from tests.opendental.readonly_support import QueryLog
from tests.support.mariadb import read_only_account
from tests.tls.support import LOCAL, CertificateAuthority, over_tls
from tests.writer.support import unique

SSL_VERSION = "SHOW SESSION STATUS LIKE 'Ssl_version'"
SSL_VERSION_SELECT = (
    "SELECT VARIABLE_VALUE AS version FROM information_schema.SESSION_STATUS"
    " WHERE VARIABLE_NAME = 'SSL_VERSION'"
)


async def _session_tls_version(db: MySqlSettings) -> str:
    session = await MySqlSession.open(db, on_query=ignore_query, max_connections=1)
    try:
        async with session.autocommit("reading the TLS version") as statements:
            row = await statements.fetch_one("ssl_version", SSL_VERSION)
    finally:
        await session.close()
    assert row is not None
    return str(row["Value"])


async def test_the_ledger_runs_over_tls_when_its_tls_is_on(ledger_db: MySqlSettings) -> None:
    # Given the hub database's settings with HUB_LEDGER_DB__TLS on and the local CA trusted,
    # as HubSettings hands them down
    settings = HubSettings(ledger_db=ledger_db.model_copy(update={"tls": True}),
                           tls=LOCAL.hub_tls())
    # When the ledger's pool connects, Then its session runs on TLS 1.2 or later
    assert await _session_tls_version(settings.ledger_db) in {"TLSv1.2", "TLSv1.3"}
    # And migrations and the ledger itself open over it
    await migrate(settings.ledger_db)
    ledger = await MySqlLedger.open(settings.ledger_db, max_connections=2)
    await ledger.close()
    # While with its tls off, the same database is reached in plaintext
    assert await _session_tls_version(ledger_db) == ""


async def test_a_ledger_server_certificate_from_another_ca_is_refused_clearly(
    ledger_db: MySqlSettings, other_ca: CertificateAuthority,
) -> None:
    # Given the hub database over TLS, trusting only another CA
    db = over_tls(ledger_db, other_ca.hub_tls(client=False))
    # When the ledger's pool or a migration connects, Then each is refused, naming the link,
    # where, the setting and OpenSSL's reason, never the password
    for opening in (lambda: _session_tls_version(db), lambda: migrate(db)):
        with pytest.raises(TlsRefused) as refused:
            await opening()
        said = str(refused.value)
        assert "TLS to the hub database at 127.0.0.1:3306 refused the server's certificate" in said
        assert "certificate verify failed" in said and "HUB_TLS__CA_FILE" in said


async def test_an_office_database_is_read_over_tls(empty_database: str) -> None:
    # Given an office's read-only account, its database over TLS with the local CA
    user, password = unique("ro")[:30], unique("pw")
    async with read_only_account(user, password, empty_database):
        account = MySqlSettings(host="127.0.0.1", user=user, password=password,
                                database=empty_database)
        # When the writer's reconciliation reads it
        async with ReadOnlyDatabase.open(
            over_tls(account, LOCAL.hub_tls()), timeout_s=5.0, max_concurrent=1,
            observer=QueryLog(), link="office office-7's database",
        ) as db:
            rows = await db.select("ssl_version", SSL_VERSION_SELECT, ())
    # Then its session runs on TLS
    assert [row["version"] for row in rows] in (["TLSv1.2"], ["TLSv1.3"])


async def test_an_office_database_certificate_from_another_ca_fails_the_read_clearly(
    empty_database: str, other_ca: CertificateAuthority,
) -> None:
    # Given an office's database over TLS, trusting only another CA
    user, password = unique("ro")[:30], unique("pw")
    async with read_only_account(user, password, empty_database):
        account = MySqlSettings(host="127.0.0.1", user=user, password=password,
                                database=empty_database)
        async with ReadOnlyDatabase.open(
            over_tls(account, other_ca.hub_tls(client=False)), timeout_s=5.0, max_concurrent=1,
            observer=QueryLog(), link="office office-7's database",
        ) as db:
            # When the writer reads it, Then the read fails as transient (tried again later,
            # nothing dead-lettered), saying which office's database refused which certificate
            with pytest.raises(TransientError) as failed:
                await db.select("ssl_version", SSL_VERSION_SELECT, ())
    said = str(failed.value)
    assert "ssl_version: TLS to office office-7's database at 127.0.0.1:3306" in said
    assert "certificate verify failed" in said and password not in said


def test_the_registry_turns_an_office_database_s_tls_on(tmp_path: Path) -> None:
    # Given a registry whose office database says tls = true
    path = tmp_path / "registry.toml"
    path.write_text(
        '[[offices]]\nid = "office-7"\napi_url = "https://192.0.2.7/api/v1"\n'
        'mode = "service"\ncustomer_key_env = "KEY"\n\n[offices.db]\nhost = "192.0.2.7"\n'
        'database = "opendental"\nuser = "ro"\npassword_env = "PW"\ntls = true\n'
    )
    office = load_registry(path, {"KEY": "k", "PW": "p"}).offices["office-7"]
    # When the writer builds its connection, Then it is over TLS with the hub's CA
    tls = LOCAL.hub_tls()
    connection = office.db.connection(tls)
    assert connection.tls and connection.client_tls == tls
