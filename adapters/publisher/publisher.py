"""``VendorPublisher``: a vendor's intents to the hub, each confirmed by the broker.

    async with VendorPublisher(broker_url, "formsco") as publisher:
        receipt = await publisher.publish(intents.patient_create(
            PatientCreate(LName="Doe", FName="Jane"), office_id="office-1", idempotency_key="k-1"))
        async for event in publisher.outcomes():
            ...  # the event is acked when this body returns

The connection is robust: it reconnects by itself. An intent not yet confirmed when the connection
drops is kept and sent again once it is back, within the confirm timeout; the broker may then hold
it twice, which the hub's idempotency makes harmless (same vendor and key: applied once).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection

from adapters.publisher.confirm import Outgoing, send_until_confirmed
from adapters.publisher.connection import BrokerUrls, broker_urls, connect
from adapters.publisher.errors import PublisherError
from adapters.publisher.message import PublishReceipt, intent_message, receipt
from adapters.publisher.outcomes import hub_events, outcome_events
from contracts import ChangeEvent, Intent, OutcomeEvent
from contracts.amqp import INTENTS_EXCHANGE
from hub.broker_nodes import NodeRotatingConnection

DEFAULT_CONFIRM_TIMEOUT_S = 10.0
DEFAULT_RECONNECT_INTERVAL_S = 1.0
DEFAULT_OUTCOME_PREFETCH = 10


@dataclass(frozen=True, kw_only=True)
class _Open:
    connection: AbstractRobustConnection
    channel: AbstractRobustChannel
    intents: AbstractExchange


class VendorPublisher:
    """Publishes as the broker user ``vendor``; ``broker_url`` carries its login. It may name
    several nodes of the hub's cluster (a list, or comma-separated): the publisher connects to
    one that answers and moves to another when its node is lost.

    ``confirm_timeout_s`` bounds one ``publish`` call, re-sends included. An ``amqps://`` URL
    connects over TLS with ``tls`` (``vendor_tls(ca_file, cert_file, key_file)``).
    """

    def __init__(
        self,
        broker_url: BrokerUrls,
        vendor: str,
        *,
        confirm_timeout_s: float = DEFAULT_CONFIRM_TIMEOUT_S,
        reconnect_interval_s: float = DEFAULT_RECONNECT_INTERVAL_S,
        outcome_prefetch: int = DEFAULT_OUTCOME_PREFETCH,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._tls = tls
        self._urls = broker_url
        self.vendor = vendor
        self._confirm_timeout_s = confirm_timeout_s
        self._reconnect_interval_s = reconnect_interval_s
        self._outcome_prefetch = outcome_prefetch
        self._open: _Open | None = None

    async def __aenter__(self) -> Self:
        connection = await connect(
            broker_urls(self._urls), self.vendor, reconnect_interval_s=self._reconnect_interval_s,
            tls=self._tls,
        )
        try:
            # Without on_return_raises an unroutable intent would look confirmed.
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            # The vendor may not declare anything: use the hub's exchange as it is.
            intents = await channel.get_exchange(INTENTS_EXCHANGE, ensure=False)
        except BaseException:
            await connection.close()
            raise
        self._open = _Open(connection=connection, channel=channel, intents=intents)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        opened, self._open = self._open, None
        if opened is not None:
            await opened.connection.close()

    @property
    def node(self) -> str:
        """``host:port`` of the broker node the publisher is connected to, or tries next."""
        connection = self._require_open().connection
        return connection.node if isinstance(connection, NodeRotatingConnection) else "?"

    async def publish(self, intent: Intent) -> PublishReceipt:
        """Publish ``intent`` to ``hub.intents`` and wait for the broker's confirm.

        Raises ``PublishNotConfirmed`` (refused, returned, nacked or timeout), naming the
        intent's routing and idempotency keys, never its payload.
        """
        opened = self._require_open()
        outgoing = Outgoing(
            message=intent_message(intent, self.vendor),
            routing_key=intent.routing_key(),
            idempotency_key=intent.idempotency_key,
        )
        attempts = await send_until_confirmed(
            opened.channel, opened.intents, outgoing, timeout_s=self._confirm_timeout_s
        )
        return receipt(intent, attempts)

    def outcomes(self) -> AsyncGenerator[OutcomeEvent, None]:
        """The vendor's outcome events as they come, each acked when the loop body returns; see
        ``adapters.publisher.outcomes``."""
        opened = self._require_open()
        return outcome_events(opened.connection, self.vendor, prefetch=self._outcome_prefetch)

    def events(self) -> AsyncGenerator[OutcomeEvent | ChangeEvent, None]:
        """The vendor's outcome events and, if an office agreed it may read a table, its
        change.v1 events, as they come; acked as ``outcomes`` acks."""
        opened = self._require_open()
        return hub_events(opened.connection, self.vendor, prefetch=self._outcome_prefetch)

    def _require_open(self) -> _Open:
        if self._open is None:
            raise PublisherError("the publisher is not open: use `async with VendorPublisher(...)`")
        return self._open
