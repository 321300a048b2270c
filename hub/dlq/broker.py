"""The broker connection ``hub dlq`` works on, and the failures it may raise.

A plain connection, not a robust one: the delivery tags of held messages die with their channel,
so a reconnect could never ack them. When the connection goes, the broker puts every message it
held back on the dead-letter queue, and the command stops with a ``DlqError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import aiormq
from aio_pika.abc import AbstractConnection
from pydantic import SecretStr

from hub.broker_connection import connect_plain
from hub.broker_nodes import split_urls
from hub.dlq.model import DlqError
from hub.settings import TlsSettings

# What aio-pika and aiormq raise when the broker refuses, closes a channel, or goes away.
BROKER_FAILURES: tuple[type[Exception], ...] = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    ConnectionError,
    TimeoutError,
)


def broker_user(broker_url: SecretStr) -> str:
    """The user the hub logs in as (never the password)."""
    return split_urls(broker_url.get_secret_value())[0].user or "guest"


@asynccontextmanager
async def dlq_connection(
    broker_url: SecretStr, tls: TlsSettings | None = None
) -> AsyncIterator[AbstractConnection]:
    """A connection to ``broker_url`` (over TLS with ``tls`` for ``amqps://``), closed on exit
    (which requeues whatever it still held)."""
    connection = await connect_plain(broker_url, tls)
    async with connection:
        yield connection


@contextmanager
def opening(kind: str, name: str) -> Iterator[None]:
    """Turn a failure to open the ``kind`` (queue, exchange) ``name`` into a ``DlqError``."""
    try:
        yield
    except aiormq.exceptions.ChannelNotFoundEntity as exc:
        raise DlqError(f"no {kind} {name} on the broker (hub topology declares it)") from exc
    except BROKER_FAILURES as exc:
        raise DlqError(f"cannot open the {kind} {name} ({type(exc).__name__})") from exc
