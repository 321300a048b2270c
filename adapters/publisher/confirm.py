"""Send one message until the broker confirms it, or say why it will not.

A lost connection or channel is not an answer: the message is kept and sent again once the robust
connection is back, until the deadline. The broker may so receive it twice; the hub's ledger makes
a duplicate harmless (same vendor, same idempotency key, same payload: applied once). Every other
reply is final and becomes ``PublishNotConfirmed``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

import aio_pika
import aiormq
from aio_pika.abc import AbstractExchange, AbstractRobustChannel

from adapters.publisher.errors import NotConfirmedReason, PublishNotConfirmed

log = logging.getLogger(__name__)

_FIRST_PAUSE_S = 0.05
_MAX_PAUSE_S = 1.0
# Connection losses, and a channel closed under us (a refusal of another publish closes it too).
_LOST = (aiormq.exceptions.AMQPConnectionError, aiormq.exceptions.ChannelInvalidStateError)
# RabbitMQ's reply to a refused topic: "ACCESS_REFUSED - access to topic '<key>' in exchange ...".
_REFUSED_TOPIC = re.compile(r"access to topic '([^']*)'")


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    message: aio_pika.Message
    routing_key: str
    idempotency_key: str

    def not_confirmed(
        self, reason: NotConfirmedReason, detail: str | None = None
    ) -> PublishNotConfirmed:
        return PublishNotConfirmed(
            reason=reason,
            routing_key=self.routing_key,
            idempotency_key=self.idempotency_key,
            detail=detail,
        )


async def send_until_confirmed(
    channel: AbstractRobustChannel,
    exchange: AbstractExchange,
    outgoing: Outgoing,
    *,
    timeout_s: float,
) -> int:
    """The number of tries it took until the broker confirmed ``outgoing``."""
    attempts = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                await channel.ready()
                attempts += 1
                if await _confirmed(exchange, outgoing):
                    return attempts
                await asyncio.sleep(min(_FIRST_PAUSE_S * 2 ** (attempts - 1), _MAX_PAUSE_S))
    except TimeoutError:
        raise outgoing.not_confirmed(NotConfirmedReason.TIMEOUT, f"{timeout_s} s") from None


async def _confirmed(exchange: AbstractExchange, outgoing: Outgoing) -> bool:
    """True when the broker confirmed; False when the connection or channel went away first.

    A return or nack carries the message, and with it the payload, so it is not chained.
    """
    try:
        await exchange.publish(outgoing.message, outgoing.routing_key, mandatory=True)
    except aiormq.exceptions.PublishError:
        raise outgoing.not_confirmed(NotConfirmedReason.RETURNED) from None
    except aiormq.exceptions.DeliveryError:
        raise outgoing.not_confirmed(NotConfirmedReason.NACKED) from None
    except aiormq.exceptions.ChannelClosed as exc:
        if _refuses_another_key(exc, outgoing.routing_key):
            _log_lost(outgoing, exc)
            return False
        raise outgoing.not_confirmed(NotConfirmedReason.REFUSED, str(exc)) from exc
    except _LOST as exc:
        _log_lost(outgoing, exc)
        return False
    return True


def _refuses_another_key(exc: aiormq.exceptions.ChannelClosed, routing_key: str) -> bool:
    """Whether the channel was closed for another publish's routing key, not this one's."""
    refused = _REFUSED_TOPIC.search(str(exc))
    return refused is not None and refused.group(1) != routing_key


def _log_lost(outgoing: Outgoing, exc: BaseException) -> None:
    log.warning(
        "publish lost its connection or channel; sending again when it is back",
        extra={
            "event": "publish_resend",
            "routing_key": outgoing.routing_key,
            "idempotency_key": outgoing.idempotency_key,
            "error": type(exc).__name__,
        },
    )
