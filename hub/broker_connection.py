"""Open an AMQP connection for the hub's own work (the writer, topology, vendor queues, the DLQ).

``HUB_BROKER_URL`` names one node or several of one cluster (hub/broker_nodes.py). The first
connection tries each node once, from a random one, and fails fast once none answered: the
error names each node's host and port, never the URL's password. A robust connection then
moves to the next node whenever it loses its own, and a robust channel re-declares what was
declared on it. An ``amqps://`` URL connects over TLS with the hub's client context
(hub/tls.py).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TypeVar

import aio_pika
import aiormq
from aio_pika.abc import AbstractConnection, AbstractRobustChannel, AbstractRobustConnection
from pamqp.common import FieldTable
from pydantic import SecretStr
from yarl import URL

from hub.broker_nodes import (
    CONNECT_TIMEOUT_S,
    NodeRotatingConnection,
    failover_order,
    split_urls,
    where,
)
from hub.errors import HubError, TransientError
from hub.settings import TlsSettings
from hub.tls import client_context, handshake

DEFAULT_RECONNECT_INTERVAL_S = 5.0  # aio-pika's own, for the hub's short-lived commands
WRITER_CONNECTION_PREFIX = "hub writer "  # then the writer id (host:pid:suffix)

_Opened = TypeVar("_Opened", bound=AbstractConnection)


class BrokerLoginRefused(HubError):
    """The broker refused the hub's user and password (``HUB_BROKER_URL``)."""


class _NodeUnreachable(Exception):
    def __init__(self, node: str, reason: str) -> None:
        super().__init__(f"{node} ({reason})")


def broker_where(broker_url: SecretStr) -> str:
    """``host:port`` of each of the broker's nodes, comma-separated; never the login."""
    return ", ".join(where(url) for url in split_urls(broker_url.get_secret_value()))


def broker_tls(broker_url: SecretStr, tls: TlsSettings | None) -> ssl.SSLContext | None:
    """The TLS context for ``broker_url``: the hub's for ``amqps://``, none for ``amqp://``."""
    if split_urls(broker_url.get_secret_value())[0].scheme != "amqps":
        return None
    return client_context(tls or TlsSettings())


async def connect_robust(
    broker_url: SecretStr, tls: TlsSettings | None = None, *, name: str | None = None,
    first: int | None = None, reconnect_interval_s: float = DEFAULT_RECONNECT_INTERVAL_S,
) -> AbstractRobustConnection:
    """A robust connection (it reconnects by itself, to the next node when there are several,
    ``reconnect_interval_s`` after it lost one); the first attempt fails fast. ``name`` shows
    in RabbitMQ's management UI and API, so an operator can tell the writers apart.
    ``first``: the node tried first (default: random)."""
    properties: FieldTable | None = {"connection_name": name} if name else None
    context = broker_tls(broker_url, tls)
    urls = split_urls(broker_url.get_secret_value())

    async def attempt(index: int) -> AbstractRobustConnection:
        connection = NodeRotatingConnection(
            urls, index, ssl_context=context, client_properties=properties,
            reconnect_interval=reconnect_interval_s,
        )
        try:
            await connection.connect(timeout=CONNECT_TIMEOUT_S)
        except BaseException:
            await connection.close()
            raise
        return connection

    return await _first_live(urls, attempt, first)


async def connect_plain(
    broker_url: SecretStr, tls: TlsSettings | None = None, *, first: int | None = None
) -> AbstractConnection:
    """A connection to the first node that answers, which stays closed once it is lost."""
    context = broker_tls(broker_url, tls)
    urls = split_urls(broker_url.get_secret_value())

    async def attempt(index: int) -> AbstractConnection:
        return await aio_pika.connect(urls[index], ssl_context=context, timeout=CONNECT_TIMEOUT_S)

    return await _first_live(urls, attempt, first)


@asynccontextmanager
async def robust_channel(
    broker_url: SecretStr, tls: TlsSettings | None = None
) -> AsyncIterator[AbstractRobustChannel]:
    """A channel on a robust connection to ``broker_url``; both are closed on exit. ``tls`` is
    the hub's (``settings.tls``); without it an ``amqps://`` URL trusts the system's CAs."""
    connection = await connect_robust(broker_url, tls)
    async with connection:
        yield await connection.channel()


async def _first_live(
    urls: tuple[URL, ...], attempt: Callable[[int], Awaitable[_Opened]], first: int | None
) -> _Opened:
    """``attempt`` on each node in turn until one connects. A refused login or TLS handshake
    ends the search at once: every node of a cluster shares the users and, usually, the CA."""
    unreachable: list[_NodeUnreachable] = []
    for index in failover_order(len(urls), first):
        try:
            with _translated(urls[index]):
                return await attempt(index)
        except _NodeUnreachable as exc:
            unreachable.append(exc)
    if len(urls) == 1:
        only = unreachable[0]
        raise TransientError(f"cannot connect to the broker at {only}") from only
    raise TransientError(
        f"cannot connect to the broker at any of its {len(urls)} nodes: "
        + ", ".join(str(node) for node in unreachable)
    ) from unreachable[-1]


@contextmanager
def _translated(url: URL) -> Iterator[None]:
    node = where(url)
    try:
        with handshake("the broker", node, tls=url.scheme == "amqps"):
            yield
    except aiormq.exceptions.ProbableAuthenticationError as exc:
        raise BrokerLoginRefused(f"the broker at {node} refused the hub's login") from exc
    except (aiormq.exceptions.AMQPConnectionError, OSError) as exc:
        raise _NodeUnreachable(node, str(exc) or type(exc).__name__) from exc
