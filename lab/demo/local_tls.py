"""The demo over TLS on every link, with this machine's CA (scripts/make-certs.sh, which
scripts/ensure-services.sh runs): vendors and the writer to RabbitMQ over AMQPS, the ledger and
the office's database over MariaDB's TLS, the office's Open Dental (the simulator) over https.
Each link verifies the server's certificate and name; the hub shows its client certificate.

The registry's office keeps its host and port: only the scheme of its API and its database's
``tls`` change, so the shipped registry serves the demo with and without TLS. The proof that the
links really were encrypted is read from the servers after the run (``links_over_tls``).
"""

from __future__ import annotations

import dataclasses
import ssl
from dataclasses import dataclass
from pathlib import Path

import aiomysql
from pydantic import SecretStr
from yarl import URL

from adapters.publisher import vendor_tls
from hub.broker_admin import management_api
from hub.broker_connection import WRITER_CONNECTION_PREFIX
from hub.registry import Office, Registry
from hub.settings import HubSettings, MySqlSettings, TlsSettings
from hub.tls import mysql_ssl
from lab.demo.config import DemoError

DEFAULT_DIR = Path("/var/lib/hub-tls")
AMQPS_PORT = 5671


@dataclass(frozen=True, kw_only=True)
class LocalTls:
    """The local CA's directory: ca.pem, server.pem/key (the services'), client.pem/key (the
    hub's)."""

    directory: Path = DEFAULT_DIR

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    def checked(self) -> LocalTls:
        missing = [
            name for name in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")
            if not (self.directory / name).is_file()
        ]
        if missing:
            raise DemoError(
                f"no local CA in {self.directory} (missing {', '.join(missing)}): run "
                "scripts/ensure-services.sh, which makes it and gives RabbitMQ and MariaDB TLS, "
                "or run the demo with --plain"
            )
        return self

    def hub_settings(self, settings: HubSettings) -> HubSettings:
        """The settings with the hub's links over TLS: the broker on AMQPS, the ledger's TLS."""
        tls = TlsSettings(
            ca_file=self.ca, cert_file=self.directory / "client.pem",
            key_file=self.directory / "client.key",
        )
        broker = URL(settings.broker_url.get_secret_value())
        amqps = broker.with_scheme("amqps").with_port(AMQPS_PORT)
        ledger = settings.ledger_db.model_copy(update={"tls": True}).with_client_tls(tls)
        return settings.model_copy(update={
            "tls": tls, "broker_url": SecretStr(str(amqps)), "ledger_db": ledger,
        })

    def registry(self, registry: Registry, office_id: str) -> Registry:
        """The registry with ``office_id``'s API on https and its database over TLS."""
        office = registry.office(office_id)
        api = URL(office.api_url).with_scheme("https")
        secure: Office = dataclasses.replace(
            office, api_url=str(api), db=dataclasses.replace(office.db, tls=True)
        )
        return dataclasses.replace(registry, offices={**registry.offices, office_id: secure})

    def vendor_context(self) -> ssl.SSLContext:
        """What a vendor trusts: the CA that signed the broker's certificate; no client
        certificate (vendors log in with their password)."""
        return vendor_tls(self.ca)

    def server_context(self) -> ssl.SSLContext:
        """The simulator's: the services' certificate (it names 127.0.0.1 and localhost)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.directory / "server.pem", self.directory / "server.key")
        return context


@dataclass(frozen=True, kw_only=True)
class LinkTls:
    """One link as its server saw it: over TLS (with the protocol version) or not."""

    link: str
    version: str | None  # e.g. TLSv1.3; None: plain, or not seen
    seen: bool = True  # False: the server listed no such connection

    @property
    def ok(self) -> bool:
        return self.version is not None


async def _mysql_version(db: MySqlSettings) -> str | None:
    conn = await aiomysql.connect(
        host=db.host, port=db.port, user=db.user, password=db.password.get_secret_value(),
        db=db.database, ssl=mysql_ssl(db), connect_timeout=10,
    )
    try:
        async with conn.cursor() as cursor:
            await cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            row = await cursor.fetchone()
    finally:
        conn.close()
    return (row[1] or None) if row else None


async def links_over_tls(
    settings: HubSettings, office: Office, vendors: tuple[str, ...], writer_id: str
) -> list[LinkTls]:
    """Each link of the run as the broker and MariaDB report it: the vendors' and the writer's
    AMQP connections (RabbitMQ's management API), the ledger's and the office database's
    sessions (MariaDB's ``Ssl_version``, on a connection opened as the hub opens them)."""
    hub_user = URL(settings.broker_url.get_secret_value()).user or "guest"
    writer = f"{WRITER_CONNECTION_PREFIX}{writer_id}"
    links: list[LinkTls] = []
    async with management_api(settings) as api:
        seen = [(f"vendor {user}", c) for user in vendors for c in await api.connections_of(user)]
        # Other processes may share the hub's user: the writer's connection carries its id.
        seen += [
            ("the writer", c) for c in await api.connections_of(hub_user)
            if c.connection_name == writer
        ]
    for who in (*(f"vendor {user}" for user in vendors), "the writer"):
        if not any(name == who for name, _ in seen):
            links.append(LinkTls(link=f"{who} to RabbitMQ", version=None, seen=False))
    links += [
        LinkTls(link=f"{who} to RabbitMQ", version=c.ssl_protocol if c.ssl else None)
        for who, c in seen
    ]
    ledger = await _mysql_version(settings.ledger_db)
    links.append(LinkTls(link="the ledger (MariaDB)", version=ledger))
    links.append(LinkTls(
        link=f"{office.id}'s Open Dental database (MariaDB)",
        version=await _mysql_version(office.db.connection(settings.tls)),
    ))
    return links
