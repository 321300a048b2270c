"""What the TLS tests share: the local CA's files (scripts/make-certs.sh, made by
scripts/ensure-services.sh) that this machine's RabbitMQ and MariaDB serve with, the hub's TLS
settings on them, and the hub's links switched to TLS."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from yarl import URL

from hub.settings import MySqlSettings, TlsSettings

ROOT = Path(__file__).resolve().parents[2]
LOCAL_CA_DIR = Path(os.environ.get("HUB_TLS_DIR", "/var/lib/hub-tls"))
AMQPS_PORT = 5671  # scripts/local-tls.sh: this machine's AMQPS listener, on 127.0.0.1


@dataclass(frozen=True, kw_only=True)
class CertificateAuthority:
    """A directory made by scripts/make-certs.sh: a CA, a server and a client certificate."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    def server(self) -> tuple[Path, Path]:
        return self.directory / "server.pem", self.directory / "server.key"

    def hub_tls(self, *, verify: bool = True, client: bool = True) -> TlsSettings:
        """The hub trusting this CA and, with ``client``, showing this CA's client certificate."""
        if not client:
            return TlsSettings(ca_file=self.ca_file, verify=verify)
        return TlsSettings(
            ca_file=self.ca_file, cert_file=self.directory / "client.pem",
            key_file=self.directory / "client.key", verify=verify,
        )


LOCAL = CertificateAuthority(directory=LOCAL_CA_DIR)


def make_ca(directory: Path) -> CertificateAuthority:
    """A whole new CA, with its own server and client certificates: "another CA"."""
    subprocess.run([str(ROOT / "scripts" / "make-certs.sh"), str(directory)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return CertificateAuthority(directory=directory)


def amqps(broker_url: SecretStr, *, host: str = "127.0.0.1") -> SecretStr:
    """The same login over AMQPS, on this machine's TLS listener."""
    url = URL(broker_url.get_secret_value())
    return SecretStr(str(url.with_scheme("amqps").with_host(host).with_port(AMQPS_PORT)))


def over_tls(db: MySqlSettings, tls: TlsSettings) -> MySqlSettings:
    """The same database, over TLS with ``tls``."""
    return db.model_copy(update={"tls": True}).with_client_tls(tls)
