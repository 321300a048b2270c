"""The addresses of one RabbitMQ cluster, and a robust connection that moves between its nodes.

A client holds one connection to one node, and every node serves every queue of the cluster.
``HUB_BROKER_URL`` (and a vendor's broker URL) may list the nodes, comma-separated, each a whole
AMQP URL with the same scheme, login, virtual host and options; a single URL is a list of one.

aio-pika's robust connection reconnects to the one URL it was made with and takes no list of
hosts (mosquito/aio-pika#141), so ``NodeRotatingConnection`` moves its URL on to the next node
whenever aio-pika reports an attempt failed or the connection lost: both reach
``_on_connection_close`` before its next attempt, which reads ``url`` afresh. The first
connection is the caller's loop over ``failover_order``: from a random node, so that writers
and vendors spread over the cluster, each node once.

Only ``where`` (host:port) of an address ever reaches a message, never its login.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

from aio_pika import RobustConnection
from yarl import URL

from hub.errors import HubError

AMQP_PORT = 5672
AMQPS_PORT = 5671
SCHEMES = ("amqp", "amqps")
# Bounds each attempt, the reconnections' included: a node that does not answer (a lost host,
# not a refused port) would otherwise hold the move to the next one for the kernel's SYN retries.
CONNECT_TIMEOUT_S = 10.0


class BrokerAddressError(HubError):
    """``HUB_BROKER_URL`` (or a vendor's broker URL) is not a list of one cluster's AMQP URLs."""


def where(url: URL) -> str:
    """``host:port`` of one address, never its login."""
    default = AMQPS_PORT if url.scheme == "amqps" else AMQP_PORT
    return f"{url.host}:{url.explicit_port or default}"


def split_urls(urls: str) -> tuple[URL, ...]:
    """The AMQP URLs of a comma-separated list, checked to be one cluster's addresses: the
    same scheme, login, virtual host and options (aio-pika reads the options from the URL)."""
    found = tuple(URL(part.strip()) for part in urls.split(",") if part.strip())
    if not found:
        raise BrokerAddressError("no broker address: give one AMQP URL or several, comma-separated")
    for url in found:
        if url.scheme not in SCHEMES or not url.host:
            raise BrokerAddressError(
                f"broker address {url.host or '?'} is not an amqp:// or amqps:// URL with a host"
            )
    first = found[0]
    for url in found[1:]:
        if _shared(url) != _shared(first):
            raise BrokerAddressError(
                f"broker address {where(url)} differs from {where(first)} in its scheme, login, "
                "virtual host or options: the addresses of one cluster share them"
            )
    return found


def join_urls(urls: Sequence[URL]) -> str:
    """The comma-separated form ``split_urls`` reads."""
    return ",".join(str(url) for url in urls)


def with_login(urls: str, user: str, password: str) -> str:
    """The same addresses under another login (a vendor's, from the hub's own)."""
    return join_urls([url.with_user(user).with_password(password) for url in split_urls(urls)])


def wheres(urls: str) -> str:
    """Every address as ``host:port``, comma-separated, for messages and logs."""
    return ", ".join(where(url) for url in split_urls(urls))


def failover_order(count: int, first: int | None = None) -> list[int]:
    """Indexes of ``count`` addresses to try in turn: from ``first``, or a random one, onwards."""
    start = random.randrange(count) if first is None else first % count
    return [(start + step) % count for step in range(count)]


def _shared(url: URL) -> tuple[str, str | None, str | None, str, str]:
    return (url.scheme, url.user, url.password, url.path, url.query_string)


class NodeRotatingConnection(RobustConnection):
    """A robust connection over several addresses of one cluster: connected to ``urls[first]``
    first, then to the next address after each failed attempt or lost connection."""

    def __init__(self, urls: Sequence[URL], first: int, **kwargs: Any) -> None:
        self._urls = tuple(urls)
        self._current = first
        super().__init__(self._urls[first], **kwargs)

    @property
    def node(self) -> str:
        """``host:port`` of the address this connection uses, or tries next."""
        return where(self._urls[self._current])

    async def _on_connection_close(self, closing: asyncio.Future[Any]) -> None:
        # aio-pika calls this after every failed attempt and every lost connection, before it
        # tries again (at once after a loss, after reconnect_interval after a failure).
        self._current = (self._current + 1) % len(self._urls)
        self.url = self._urls[self._current]
        await super()._on_connection_close(closing)
