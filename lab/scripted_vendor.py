"""A vendor as the lab's scripted runs play it (``hub demo``, ``hub chaos``): one broker login, used
two ways.

Intents the typed builders can build go through ``VendorPublisher``, as any vendor's would. A
body they refuse to build (an invalid message the run sends on purpose) needs a raw robust
connection of its own, still under the vendor's login, so the broker checks it as it would a
real vendor's. An ``amqps://`` login connects both over TLS with ``tls`` (``vendor_tls``).
"""

from __future__ import annotations

import ssl
from types import TracebackType
from typing import Self

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from pydantic import SecretStr

from adapters.publisher import VendorPublisher, vendor_tls
from adapters.publisher.connection import broker_urls, connect
from contracts.amqp import CONTENT_TYPE, PERSISTENT

RAW_RECONNECT_INTERVAL_S = 5.0  # aio-pika's default, as the raw connection always had


def raw_message(body: bytes, *, user_id: str, message_id: str) -> aio_pika.Message:
    """A body sent as is, with the headers the hub reads before parsing it: the broker checks
    ``user_id`` against the login, and ``message_id`` names the intent even when it is bad."""
    return aio_pika.Message(
        body, content_type=CONTENT_TYPE, delivery_mode=aio_pika.DeliveryMode(PERSISTENT),
        user_id=user_id, message_id=message_id,
    )


class ScriptedVendor:
    """The publisher library and a raw connection under the login in ``broker_url``, opened
    and closed together."""

    def __init__(
        self, name: str, broker_url: SecretStr, *, confirm_timeout_s: float,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self._url = broker_url
        secure = broker_urls(broker_url)[0].scheme == "amqps"
        self._tls = (tls or vendor_tls()) if secure else None
        self._publisher = VendorPublisher(
            broker_url, name, confirm_timeout_s=confirm_timeout_s, tls=self._tls
        )
        self._raw: AbstractRobustConnection | None = None

    async def __aenter__(self) -> Self:
        await self._publisher.__aenter__()
        try:
            # The library's own connection: it takes a cluster's nodes as the publisher does.
            self._raw = await connect(broker_urls(self._url), self.name,
                                      reconnect_interval_s=RAW_RECONNECT_INTERVAL_S, tls=self._tls)
        except BaseException:
            await self._publisher.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        raw, self._raw = self._raw, None
        try:
            if raw is not None:
                await raw.close()
        finally:
            await self._publisher.__aexit__(kind, exc, tb)

    def _raw_connection(self) -> AbstractRobustConnection:
        assert self._raw is not None, f"use `async with {type(self).__name__}(...)`"
        return self._raw
