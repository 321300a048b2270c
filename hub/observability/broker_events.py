"""What the broker does to the writer, logged and counted: a connection it closes or that is lost
(and its return), a channel it closes, a consumer it cancels, a message it delivers again.

RabbitMQ acts on its own: it closes a channel whose delivery stayed unacked past the node's
``consumer_timeout`` (PRECONDITION_FAILED, "delivery acknowledgement on channel N timed out"),
and every unacked delivery of that channel goes back to its queue, counted against the queue's
``x-delivery-limit``. aio-pika then reopens the channel without a word above DEBUG, so without
this module an operator never learns the broker is deciding for the hub.

The writer's own closes (shutdown, a channel it closes on purpose) are not the broker's: neither
logged nor counted. A line carries the AMQP reply code and the broker's reply text: queue,
channel and consumer names, never a message body; cut to ``MAX_TEXT``.

Wiring, on the robust objects the composition root opens::

    events = BrokerEvents(hub_metrics)
    events.watch_connection(connection)
    await events.watch_channel(channel, ChannelRole.CONSUME, office)  # office None: shared
    events.redelivered(office, delivery_count)  # a redelivered message's first run
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from pamqp.commands import Basic

from hub.observability.labels import BrokerReply, ChannelRole
from hub.observability.metrics import HubMetrics

log = logging.getLogger(__name__)

MAX_TEXT = 256
# What a broker close means for the writer, said in the line that reports it.
_AFTERMATH: Mapping[ChannelRole, str] = {
    ChannelRole.CONSUME: "its unacked deliveries go back to their queues, each counted against "
    "the queue's delivery limit",
    ChannelRole.PUBLISH: "publishes awaiting a confirm fail, and their lanes try again",
}
_Closed = aiormq.exceptions.ChannelClosed | aiormq.exceptions.ConnectionClosed
# aiormq raises these with the reply text alone, the code being the class; others carry both.
_CODES: Mapping[type[BaseException], int] = {
    exception: code
    for mapping in (aiormq.channel.EXCEPTION_MAPPING, aiormq.connection.EXCEPTION_MAPPING)
    for code, exception in mapping.items()
}


@dataclass(frozen=True, kw_only=True)
class Reply:
    """The close the broker sent: its AMQP reply code and text (``PRECONDITION_FAILED - …``)."""

    code: int
    text: str

    @property
    def name(self) -> BrokerReply:
        return BrokerReply.of(self.code, self.text)


def broker_reply(error: BaseException | None) -> Reply | None:
    """The broker's close frame behind ``error``; None when none came: the client closed it
    (aiormq's ``ChannelClosed(None, None)``), or the TCP connection went."""
    if not isinstance(error, _Closed):
        return None
    code = _CODES.get(type(error))
    if code is not None:
        return Reply(code=code, text=cut(error.args[0] if error.args else ""))
    if len(error.args) == 2 and isinstance(error.args[0], int):
        return Reply(code=error.args[0], text=cut(error.args[1]))
    return None


def cut(text: object) -> str:
    """One line of at most ``MAX_TEXT`` characters."""
    return " ".join(str(text).split())[:MAX_TEXT]


class BrokerEvents:
    """Logs and counts the broker's events on the connections and channels it is shown."""

    def __init__(self, metrics: HubMetrics, clock: Callable[[], float] = time.monotonic) -> None:
        self._metrics = metrics
        self._clock = clock

    def watch_connection(self, connection: AbstractRobustConnection) -> None:
        """For the connection's life: its closes by the broker, its losses, its reconnects."""
        watch = _ConnectionWatch(self._metrics, self._clock)
        connection.close_callbacks.add(watch.closed)
        connection.reconnect_callbacks.add(watch.reconnected)

    async def watch_channel(
        self, channel: AbstractRobustChannel, role: ChannelRole, office: str | None = None
    ) -> None:
        """For the channel's life, across its reopens: its closes by the broker and its
        consumers the broker cancels. ``office``: the one office the channel serves, if any.
        The channel must be open."""
        watch = _ChannelWatch(self._metrics, role, office)
        channel.close_callbacks.add(watch.closed)
        channel.reopen_callbacks.add(watch.reopened)
        await watch.follow(channel)

    def redelivered(self, office: str, delivery_count: int | None = None) -> None:
        """A message the broker had delivered before (a closed channel or connection, a nack,
        a writer that stopped): INFO, since its cause is logged at WARNING when it is the
        broker's and the ledger makes a second run harmless. ``delivery_count``: the quorum
        queue's ``x-delivery-count``, how near the message is to the delivery limit."""
        self._metrics.broker_redelivered(office)
        count = "" if delivery_count is None else f" (delivery count {delivery_count})"
        log.info("the broker delivered this message again%s", count, extra={"office": office})


class _ConnectionWatch:
    def __init__(self, metrics: HubMetrics, clock: Callable[[], float]) -> None:
        self._metrics = metrics
        self._clock = clock
        self._down_since: float | None = None

    def closed(self, connection: AbstractConnection | None, error: BaseException | None) -> None:
        if connection is None or connection.close_called:
            return  # the writer closes it: shutting down
        if self._down_since is None:  # a failed reconnect closes it again: down since the first
            self._down_since = self._clock()
        reply = broker_reply(error)
        if reply is None:
            self._metrics.broker_connection_closed(BrokerReply.LOST)
            why = "no reason given" if error is None else f"{type(error).__name__}: {cut(error)}"
            log.warning("lost the broker connection (%s); reconnecting", why,
                        extra={"reply": BrokerReply.LOST.value})
            return
        self._metrics.broker_connection_closed(reply.name)
        log.warning(
            "the broker closed the connection: %d %s; reconnecting", reply.code, reply.text,
            extra={"reply_code": reply.code, "reply": reply.name.value},
        )

    def reconnected(self, connection: AbstractRobustConnection | None) -> None:
        self._metrics.broker_reconnected()
        since, self._down_since = self._down_since, None
        down_s = 0.0 if since is None else round(self._clock() - since, 3)
        log.info("reconnected to the broker after %s s", down_s, extra={"seconds": down_s})


class _ChannelWatch:
    def __init__(self, metrics: HubMetrics, role: ChannelRole, office: str | None) -> None:
        self._metrics = metrics
        self._role = role
        self._office = office
        self._closed_by_broker = False
        where = f"the {role.value} channel"
        self._where = where if office is None else f"{where} of office {office}"
        self._fields: dict[str, object] = {"channel": role.value}
        if office is not None:
            self._fields["office"] = office

    async def follow(self, channel: AbstractRobustChannel) -> None:
        """Hear the broker's consumer cancels: only the channel under aio-pika's gets them,
        and a reopened channel has a new one."""
        underlay = await channel.get_underlay_channel()
        underlay.on_consumer_cancel_callbacks.add(self.cancelled)

    def closed(self, channel: AbstractChannel | None, error: BaseException | None) -> None:
        # A close the connection caused is counted once, by the connection's watch.
        reply = broker_reply(error if isinstance(error, aiormq.exceptions.ChannelClosed) else None)
        if reply is None:
            return
        self._closed_by_broker = True
        self._metrics.broker_channel_closed(self._role, self._office, reply.name)
        log.warning(
            "the broker closed %s: %d %s; %s", self._where, reply.code, reply.text,
            _AFTERMATH[self._role],
            extra={**self._fields, "reply_code": reply.code, "reply": reply.name.value},
        )

    async def reopened(self, channel: AbstractRobustChannel | None) -> None:
        # aio-pika gathers reopen callbacks and drops their errors: log them here.
        if channel is None:
            return
        try:
            await self.follow(channel)
        except Exception:
            log.exception("cannot hear consumer cancels on %s any more", self._where)
        if self._closed_by_broker:
            self._closed_by_broker = False
            log.info("reopened %s", self._where, extra=self._fields)

    def cancelled(self, frame: Basic.Cancel) -> None:
        self._metrics.broker_consumer_cancelled(self._role, self._office)
        log.warning(
            "the broker cancelled consumer %s on %s (its queue was deleted or is unavailable); "
            "it consumes again when the queue is back",
            frame.consumer_tag, self._where, extra=self._fields,
        )
