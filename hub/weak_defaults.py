"""No weak defaults outside a laptop: the writer refuses to start when a credential it uses is
one of the well-known defaults (RabbitMQ's guest, MariaDB's root without a password, Open
Dental's public test developer key) and the endpoint it opens with it is not on this machine.

On one machine those defaults are what the demo and the tests run on; across a network they are
an open door. Only the settings are read: nothing is resolved or connected to, so a host is
loopback when it is ``localhost`` or a loopback address as written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

from hub.errors import HubError
from hub.registry import Registry
from hub.settings import HubSettings

GUEST = ("guest", "guest")
OPEN_DENTAL_TEST_KEY = "NFF6i0KrXrxDkZHt"  # Open Dental's public developer key for tests


class WeakDefaultsError(HubError):
    """A default credential would cross a network; the message names each one and where."""


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


def refuse_weak_defaults(settings: HubSettings, registry: Registry) -> None:
    """Raise ``WeakDefaultsError`` naming every default credential bound for another machine."""
    problems = list(_weak_defaults(settings, registry))
    if problems:
        raise WeakDefaultsError(
            "refusing to start with default credentials outside this machine: "
            + "; ".join(problems)
        )


def _weak_defaults(settings: HubSettings, registry: Registry) -> Iterator[str]:
    broker = urlsplit(settings.broker_url.get_secret_value())
    login = (unquote(broker.username or ""), unquote(broker.password or ""))
    if login == GUEST and not is_loopback(broker.hostname):
        yield f"HUB_BROKER_URL logs in as guest/guest to {broker.hostname}"
    management = urlsplit(settings.management_url)
    management_login = (settings.management_user, settings.management_password.get_secret_value())
    if management_login == GUEST and not is_loopback(management.hostname):
        yield f"HUB_MANAGEMENT_USER/PASSWORD are guest/guest for {management.hostname}"
    ledger = settings.ledger_db
    if _root_without_password(ledger.user, ledger.password.get_secret_value(), ledger.host):
        yield f"HUB_LEDGER_DB__USER is root without a password on {settings.ledger_db.host}"
    for office in sorted(registry.offices.values(), key=lambda office: office.id):
        api_host = urlsplit(office.api_url).hostname
        key = (office.developer_key or settings.od_developer_key).get_secret_value()
        if key == OPEN_DENTAL_TEST_KEY and not is_loopback(api_host):
            yield f"office {office.id} sends Open Dental's public test developer key to {api_host}"
        db = office.db
        if _root_without_password(db.user, db.password.get_secret_value(), db.host):
            yield f"office {office.id}'s database login is root without a password on {db.host}"


def _root_without_password(user: str, password: str, host: str) -> bool:
    return user == "root" and not password and not is_loopback(host)
