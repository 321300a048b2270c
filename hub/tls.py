"""TLS on every link the hub opens: one client context built from ``HUB_TLS__*``, and the
translation of a failed handshake into an error that says which link failed and why.

The links are the broker (AMQPS), RabbitMQ's management API, the hub database, each office's
database and each office's Open Dental API; whether a link uses TLS is its own setting (an
``amqps://`` or ``https://`` URL, a database's ``tls``), while what it trusts and shows is this
module's one context. Verification (the chain to a trusted CA and the host name) is on unless
``HUB_TLS__VERIFY=false``, which is logged as a warning every time a command builds the context.

Each driver wraps the ``ssl`` error its way (aiormq's AMQPConnectionError, PyMySQL's
OperationalError 2003, httpx's ConnectError, aiohttp's ClientConnectorCertificateError), but
each keeps it in its chain of causes, where ``handshake_failure`` finds it.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from hub.errors import HubError
from hub.settings import MySqlSettings, TlsSettings

log = logging.getLogger(__name__)

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
LINKS = "the broker, the management API, the hub database, offices' databases and Open Dental"


class TlsRefused(HubError):
    """A TLS handshake failed: the message names the link, its host and port, the setting that
    decides and OpenSSL's reason, never a password."""


@lru_cache(maxsize=8)
def client_context(tls: TlsSettings) -> ssl.SSLContext:
    """The client context of every TLS link, built once per settings value (loading the CA and
    the key is file I/O and some CPU: not once per pooled connection)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = MINIMUM_VERSION
    _load_files(context, tls)
    if not tls.verify:
        # Order matters: check_hostname must be off before verify_mode may be CERT_NONE.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        log.warning(
            "HUB_TLS__VERIFY is false: TLS links (%s) are encrypted but their servers' "
            "certificates are not verified; anyone on the path can pretend to be them", LINKS,
        )
    return context


def _load_files(context: ssl.SSLContext, tls: TlsSettings) -> None:
    """The extra CA and the client certificate; a file that cannot be used is named."""
    if tls.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(tls.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise TlsRefused(
                f"cannot read HUB_TLS__CA_FILE ({tls.ca_file}): {ssl_reason(exc)}"
            ) from exc
    if (tls.cert_file is None) != (tls.key_file is None):
        raise TlsRefused("set both HUB_TLS__CERT_FILE and HUB_TLS__KEY_FILE, or neither")
    if tls.cert_file is not None and tls.key_file is not None:
        try:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        except (OSError, ssl.SSLError) as exc:
            raise TlsRefused(
                f"cannot read HUB_TLS__CERT_FILE ({tls.cert_file}) with HUB_TLS__KEY_FILE "
                f"({tls.key_file}): {ssl_reason(exc)}"
            ) from exc


def mysql_ssl(db: MySqlSettings) -> ssl.SSLContext | None:
    """The ``ssl`` argument of aiomysql for ``db``: the hub's context when its ``tls`` is on."""
    return client_context(db.client_tls) if db.tls else None


def handshake_failure(exc: BaseException) -> ssl.SSLError | None:
    """OpenSSL's error behind ``exc``, however deep in its causes a driver put it. Only the
    ``ssl`` module's own classes count: aiohttp's wrappers are ``ssl`` errors too, but their
    text names the request, and OpenSSL's reason is in their cause."""
    found: ssl.SSLError | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError) and type(current).__module__ == "ssl":
            found = current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return found


def refused(link: str, where: str, failure: ssl.SSLError) -> TlsRefused:
    """The error for a failed handshake on ``link`` (``the broker``, ``office-1's database``)
    at ``where`` (host:port): whose certificate was refused, and the setting that decides."""
    reason = ssl_reason(failure)
    if isinstance(failure, ssl.SSLCertVerificationError):
        return TlsRefused(
            f"TLS to {link} at {where} refused the server's certificate: {reason}; the hub "
            "trusts the system's CAs and HUB_TLS__CA_FILE"
        )
    if "alert" in reason:  # the server ended the handshake: it refused the hub's side
        return TlsRefused(
            f"TLS to {link} at {where}: the server refused the hub's client certificate "
            f"(HUB_TLS__CERT_FILE, HUB_TLS__KEY_FILE): {reason}"
        )
    return TlsRefused(
        f"TLS to {link} at {where} failed: {reason} (does it speak TLS on that port?)"
    )


def reset_after_handshake(exc: BaseException) -> bool:
    """Whether the server reset the connection: on a TLS link, right after a TLS 1.3 handshake,
    that is how a refused client certificate often arrives (the server's alert and its close
    race the client's first write, and the reset can win)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ConnectionResetError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def handshake(link: str, where: str, *, tls: bool = True) -> Iterator[None]:
    """Raise ``TlsRefused`` for a connection attempt in the block that failed in its TLS
    handshake (``tls``: the link uses TLS); any other failure passes through for the caller to
    translate."""
    try:
        yield
    except Exception as exc:
        failure = handshake_failure(exc)
        if failure is not None:
            raise refused(link, where, failure) from exc
        if tls and reset_after_handshake(exc):
            raise TlsRefused(
                f"TLS to {link} at {where}: the server reset the connection at once; it may "
                "have refused the hub's client certificate (HUB_TLS__CERT_FILE, "
                "HUB_TLS__KEY_FILE: one its CA signed?)"
            ) from exc
        raise


def ssl_reason(exc: BaseException) -> str:
    """OpenSSL's reason, without the library's bracketed code and the source line:
    ``certificate verify failed: unable to get local issuer certificate``."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if text.startswith("[") and "] " in text:
        text = text.split("] ", 1)[1]
    return text.split(" (_ssl.c:", 1)[0]
