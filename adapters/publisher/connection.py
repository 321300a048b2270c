"""The vendor's robust connection: it reconnects by itself, and its channels reopen after the
broker closes them (a refused publish closes its channel).

The broker URL may name several nodes of the hub's cluster, comma-separated (or as a list):
the first connection tries each once, from a random one, and a lost connection moves on to the
next node (hub/broker_nodes.py). Only the first connection fails fast, translated once: the
error names each node's host and port and the vendor, never the URL's password. An
``amqps://`` URL connects over TLS with ``tls`` (see ``vendor_tls``), or with the system's CAs
alone without it.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

import aiormq
from aio_pika.abc import AbstractRobustConnection
from pydantic import SecretStr
from yarl import URL

from adapters.publisher.errors import PublisherConnectError
from adapters.publisher.tls import vendor_tls
from hub.broker_nodes import (
    CONNECT_TIMEOUT_S,
    BrokerAddressError,
    NodeRotatingConnection,
    failover_order,
    split_urls,
    where,
)
from hub.tls import handshake_failure, reset_after_handshake, ssl_reason

BrokerUrls = SecretStr | str | Sequence[SecretStr | str]


def broker_urls(urls: BrokerUrls) -> tuple[URL, ...]:
    """The nodes of ``urls``: one URL, several comma-separated, or a list of them."""
    parts = [urls] if isinstance(urls, SecretStr | str) else list(urls)
    text = ",".join(p.get_secret_value() if isinstance(p, SecretStr) else p for p in parts)
    try:
        return split_urls(text)
    except BrokerAddressError as exc:
        raise PublisherConnectError(str(exc)) from exc


async def connect(
    urls: tuple[URL, ...], vendor: str, *, reconnect_interval_s: float,
    tls: ssl.SSLContext | None = None, first: int | None = None,
) -> AbstractRobustConnection:
    """A robust connection to the first node that answers, from ``first`` (default: random)."""
    secure = urls[0].scheme == "amqps"
    unreachable: list[str] = []
    for index in failover_order(len(urls), first):
        connection = NodeRotatingConnection(
            urls, index,
            ssl_context=(tls or vendor_tls()) if secure else None,
            reconnect_interval=reconnect_interval_s,
            # Names the connection in the management UI (and for DELETE /api/connections).
            client_properties={"connection_name": f"vendor {vendor}"},
        )
        try:
            await connection.connect(timeout=CONNECT_TIMEOUT_S)
        except (aiormq.exceptions.AMQPConnectionError, OSError) as exc:
            await connection.close()
            _raise_unless_unreachable(exc, where(urls[index]), vendor, secure=secure)
            unreachable.append(f"{where(urls[index])} ({type(exc).__name__})")
            continue
        return connection
    if len(urls) == 1:
        raise PublisherConnectError(f"cannot connect to the broker at {unreachable[0]}")
    raise PublisherConnectError(
        f"cannot connect to the broker at any of its {len(urls)} nodes: " + ", ".join(unreachable)
    )


def _raise_unless_unreachable(exc: Exception, node: str, vendor: str, *, secure: bool) -> None:
    """A refused login or TLS handshake ends the search: every node shares users and the CA."""
    if isinstance(exc, aiormq.exceptions.ProbableAuthenticationError):
        raise PublisherConnectError(
            f"the broker at {node} refused the login of vendor {vendor!r}"
        ) from exc
    failure = handshake_failure(exc)
    if failure is not None:
        raise PublisherConnectError(_tls_refused(node, failure)) from exc
    if secure and reset_after_handshake(exc):  # TLS 1.3: how a refused certificate may end
        raise PublisherConnectError(
            f"TLS to the broker at {node}: the broker reset the connection at once; it "
            "may have refused the vendor's client certificate"
        ) from exc


def _tls_refused(where: str, failure: ssl.SSLError) -> str:
    reason = ssl_reason(failure)
    if isinstance(failure, ssl.SSLCertVerificationError):
        return (f"TLS to the broker at {where} refused the broker's certificate: {reason} "
                "(trust the hub's CA: vendor_tls(ca_file=...))")
    return f"TLS to the broker at {where} failed: {reason} (is the client certificate the hub's?)"
