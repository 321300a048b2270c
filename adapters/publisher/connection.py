"""The vendor's robust connection: it reconnects by itself, and its channels reopen after the
broker closes them (a refused publish closes its channel).

Only the first connection fails fast, translated once: the error names the broker's host and
the vendor, never the URL's password. An ``amqps://`` URL connects over TLS with ``tls`` (see
``vendor_tls``), or with the system's CAs alone without it.
"""

from __future__ import annotations

import ssl

import aio_pika
import aiormq
from aio_pika.abc import AbstractRobustConnection
from pydantic import SecretStr
from yarl import URL

from adapters.publisher.errors import PublisherConnectError
from adapters.publisher.tls import vendor_tls
from hub.tls import handshake_failure, reset_after_handshake, ssl_reason

AMQP_PORT = 5672
AMQPS_PORT = 5671


async def connect(
    broker_url: SecretStr, vendor: str, *, reconnect_interval_s: float,
    tls: ssl.SSLContext | None = None,
) -> AbstractRobustConnection:
    url = URL(broker_url.get_secret_value())
    secure = url.scheme == "amqps"
    where = f"{url.host}:{url.explicit_port or (AMQPS_PORT if secure else AMQP_PORT)}"
    try:
        return await aio_pika.connect_robust(
            url,
            ssl_context=(tls or vendor_tls()) if secure else None,
            reconnect_interval=reconnect_interval_s,
            # Names the connection in the management UI (and for DELETE /api/connections).
            client_properties={"connection_name": f"vendor {vendor}"},
        )
    except aiormq.exceptions.ProbableAuthenticationError as exc:
        raise PublisherConnectError(
            f"the broker at {where} refused the login of vendor {vendor!r}"
        ) from exc
    except (aiormq.exceptions.AMQPConnectionError, OSError) as exc:
        failure = handshake_failure(exc)
        if failure is not None:
            raise PublisherConnectError(_tls_refused(where, failure)) from exc
        if secure and reset_after_handshake(exc):  # TLS 1.3: how a refused certificate may end
            raise PublisherConnectError(
                f"TLS to the broker at {where}: the broker reset the connection at once; it "
                "may have refused the vendor's client certificate"
            ) from exc
        raise PublisherConnectError(
            f"cannot connect to the broker at {where} ({type(exc).__name__})"
        ) from exc


def _tls_refused(where: str, failure: ssl.SSLError) -> str:
    reason = ssl_reason(failure)
    if isinstance(failure, ssl.SSLCertVerificationError):
        return (f"TLS to the broker at {where} refused the broker's certificate: {reason} "
                "(trust the hub's CA: vendor_tls(ca_file=...))")
    return f"TLS to the broker at {where} failed: {reason} (is the client certificate the hub's?)"
