"""Open an AMQP connection for the hub's own work (the writer, topology, vendor queues, the DLQ).

A robust channel re-declares what was declared on it after a reconnect. The first connection
attempt fails fast, translated once: the error names the broker's host, never the URL's password.
An ``amqps://`` URL connects over TLS with the hub's client context (hub/tls.py).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import aio_pika
import aiormq
from aio_pika.abc import AbstractConnection, AbstractRobustChannel, AbstractRobustConnection
from pamqp.common import FieldTable
from pydantic import SecretStr
from yarl import URL

from hub.errors import HubError, TransientError
from hub.settings import TlsSettings
from hub.tls import client_context, handshake

AMQP_PORT = 5672
AMQPS_PORT = 5671
WRITER_CONNECTION_PREFIX = "hub writer "  # then the writer id (host:pid:suffix)


class BrokerLoginRefused(HubError):
    """The broker refused the hub's user and password (``HUB_BROKER_URL``)."""


def broker_where(broker_url: SecretStr) -> str:
    """``host:port`` of the broker, never the login."""
    url = URL(broker_url.get_secret_value())
    default = AMQPS_PORT if url.scheme == "amqps" else AMQP_PORT
    return f"{url.host}:{url.explicit_port or default}"


def broker_tls(broker_url: SecretStr, tls: TlsSettings | None) -> ssl.SSLContext | None:
    """The TLS context for ``broker_url``: the hub's for ``amqps://``, none for ``amqp://``."""
    if URL(broker_url.get_secret_value()).scheme != "amqps":
        return None
    return client_context(tls or TlsSettings())


async def connect_robust(
    broker_url: SecretStr, tls: TlsSettings | None = None, *, name: str | None = None
) -> AbstractRobustConnection:
    """A robust connection (it reconnects by itself); the first attempt fails fast. ``name``
    shows in RabbitMQ's management UI and API, so an operator can tell the writers apart."""
    properties: FieldTable | None = {"connection_name": name} if name else None
    with _translated(broker_url):
        return await aio_pika.connect_robust(
            broker_url.get_secret_value(), ssl_context=broker_tls(broker_url, tls),
            client_properties=properties,
        )


async def connect_plain(
    broker_url: SecretStr, tls: TlsSettings | None = None
) -> AbstractConnection:
    """A connection that stays closed once it is lost."""
    with _translated(broker_url):
        return await aio_pika.connect(
            broker_url.get_secret_value(), ssl_context=broker_tls(broker_url, tls)
        )


@asynccontextmanager
async def robust_channel(
    broker_url: SecretStr, tls: TlsSettings | None = None
) -> AsyncIterator[AbstractRobustChannel]:
    """A channel on a robust connection to ``broker_url``; both are closed on exit. ``tls`` is
    the hub's (``settings.tls``); without it an ``amqps://`` URL trusts the system's CAs."""
    connection = await connect_robust(broker_url, tls)
    async with connection:
        yield await connection.channel()


@contextmanager
def _translated(broker_url: SecretStr) -> Iterator[None]:
    where = broker_where(broker_url)
    secure = URL(broker_url.get_secret_value()).scheme == "amqps"
    try:
        with handshake("the broker", where, tls=secure):
            yield
    except aiormq.exceptions.ProbableAuthenticationError as exc:
        raise BrokerLoginRefused(f"the broker at {where} refused the hub's login") from exc
    except (aiormq.exceptions.AMQPConnectionError, OSError) as exc:
        raise TransientError(f"cannot connect to the broker at {where} ({exc})") from exc
