"""Open a robust AMQP connection for the hub's own work (topology, vendor queues).

A robust channel re-declares what was declared on it after a reconnect. The first connection
attempt fails fast, translated once: the error names the broker's host, never the URL's password.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aio_pika
import aiormq
from aio_pika.abc import AbstractRobustChannel
from pydantic import SecretStr

from hub.errors import HubError, TransientError


class BrokerLoginRefused(HubError):
    """The broker refused the hub's user and password (``HUB_BROKER_URL``)."""


@asynccontextmanager
async def robust_channel(broker_url: SecretStr) -> AsyncIterator[AbstractRobustChannel]:
    """A channel on a robust connection to ``broker_url``; both are closed on exit."""
    url = broker_url.get_secret_value()
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or 5672}"
    try:
        connection = await aio_pika.connect_robust(url)
    except aiormq.exceptions.ProbableAuthenticationError as exc:
        raise BrokerLoginRefused(f"the broker at {where} refused the hub's login") from exc
    except (aiormq.exceptions.AMQPConnectionError, OSError) as exc:
        raise TransientError(f"cannot connect to the broker at {where} ({exc})") from exc
    async with connection:
        yield await connection.channel()
