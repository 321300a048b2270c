"""No weak defaults outside a laptop: the writer refuses to start when a link to an endpoint that
is not on this machine is weak. A link is weak when it logs in with one of the well-known default
credentials (RabbitMQ's guest, MariaDB's root without a password, Open Dental's public test
developer key), when it is plaintext (``amqp://``, ``http://``, a database without ``tls``), or
when certificates are not verified (``HUB_TLS__VERIFY=false``).

On one machine those defaults are what the demo and the tests run on; across a network they are
an open door, and a plaintext or unverified link carries the logins and patient data to anyone
on the path. Only the settings are read: nothing is resolved or connected to, so a host is
loopback when it is ``localhost`` or a loopback address as written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import SplitResult, unquote, urlsplit

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
    """Raise ``WeakDefaultsError`` naming every default credential, plaintext link and
    unverified link bound for another machine, all at once, each with its fix."""
    problems = [
        *_weak_defaults(settings, registry),
        *_plaintext_links(settings, registry),
        *_unverified(settings, registry),
    ]
    if problems:
        raise WeakDefaultsError(
            "refusing to start with weak defaults outside this machine: " + "; ".join(problems)
        )


def _weak_defaults(settings: HubSettings, registry: Registry) -> Iterator[str]:
    for broker in _addresses(settings.broker_url.get_secret_value()):
        login = (unquote(broker.username or ""), unquote(broker.password or ""))
        if login == GUEST and not is_loopback(broker.hostname):
            yield f"HUB_BROKER_URL logs in as guest/guest to {broker.hostname}"
    management_login = (settings.management_user, settings.management_password.get_secret_value())
    for management in _addresses(settings.management_url):
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


def _plaintext_links(settings: HubSettings, registry: Registry) -> Iterator[str]:
    for broker in _addresses(settings.broker_url.get_secret_value()):
        if broker.scheme != "amqps" and not is_loopback(broker.hostname):
            yield f"HUB_BROKER_URL is plaintext AMQP to {broker.hostname}: use amqps:// (port 5671)"
    for management in _addresses(settings.management_url):
        if management.scheme != "https" and not is_loopback(management.hostname):
            yield f"HUB_MANAGEMENT_URL is plaintext HTTP to {management.hostname}: use https://"
    if not settings.ledger_db.tls and not is_loopback(settings.ledger_db.host):
        yield (f"the hub database on {settings.ledger_db.host} is plaintext: set "
               "HUB_LEDGER_DB__TLS=true")
    for office in sorted(registry.offices.values(), key=lambda office: office.id):
        api = urlsplit(office.api_url)
        if api.scheme != "https" and not is_loopback(api.hostname):
            yield (f"office {office.id}'s Open Dental API is plaintext HTTP to {api.hostname}: "
                   "use an https:// api_url")
        if not office.db.tls and not is_loopback(office.db.host):
            yield (f"office {office.id}'s database on {office.db.host} is plaintext: set "
                   "tls = true in its [offices.db]")


def _unverified(settings: HubSettings, registry: Registry) -> Iterator[str]:
    if settings.tls.verify:
        return
    remote = sorted({host for host in _endpoints(settings, registry) if not is_loopback(host)})
    if remote:
        yield (f"HUB_TLS__VERIFY is false while {', '.join(remote)} is not on this machine: "
               "trust its CA with HUB_TLS__CA_FILE instead")


def _endpoints(settings: HubSettings, registry: Registry) -> Iterator[str]:
    """Every host the hub opens a link to (an unparsable one as empty: not loopback)."""
    for address in (*_addresses(settings.broker_url.get_secret_value()),
                    *_addresses(settings.management_url)):
        yield address.hostname or ""
    yield settings.ledger_db.host
    for office in registry.offices.values():
        yield urlsplit(office.api_url).hostname or ""
        yield office.db.host


def _addresses(urls: str) -> list[SplitResult]:
    """Each URL of a comma-separated list: a cluster's nodes (HUB_BROKER_URL, …)."""
    return [urlsplit(url.strip()) for url in urls.split(",") if url.strip()]
