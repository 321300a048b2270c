"""The vendor's robust connection: it reconnects by itself, and its channels reopen after the
broker closes them (a refused publish closes its channel).

Only the first connection fails fast, translated once: the error names the broker's host and
the vendor, never the URL's password.
"""

from __future__ import annotations

import aio_pika
import aiormq
from aio_pika.abc import AbstractRobustConnection
from pydantic import SecretStr
from yarl import URL

from adapters.publisher.errors import PublisherConnectError


async def connect(
    broker_url: SecretStr, vendor: str, *, reconnect_interval_s: float
) -> AbstractRobustConnection:
    url = URL(broker_url.get_secret_value())
    where = f"{url.host}:{url.port or 5672}"
    try:
        return await aio_pika.connect_robust(
            url,
            reconnect_interval=reconnect_interval_s,
            # Names the connection in the management UI (and for DELETE /api/connections).
            client_properties={"connection_name": f"vendor {vendor}"},
        )
    except aiormq.exceptions.ProbableAuthenticationError as exc:
        raise PublisherConnectError(
            f"the broker at {where} refused the login of vendor {vendor!r}"
        ) from exc
    except (aiormq.exceptions.AMQPConnectionError, OSError) as exc:
        raise PublisherConnectError(
            f"cannot connect to the broker at {where} ({type(exc).__name__})"
        ) from exc
