"""An intent as the AMQP message the AsyncAPI document describes, and the receipt of its confirm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aio_pika

from contracts import Intent
from contracts.amqp import CONTENT_TYPE, PERSISTENT


@dataclass(frozen=True, kw_only=True)
class PublishReceipt:
    """The broker confirmed the intent: it is stored in the office's queue.

    ``attempts`` counts the publisher's tries: more than 1 when a lost connection made it send the
    intent again (the broker may then hold it twice; the hub applies it once).
    """

    contract: str
    version: int
    office_id: str
    idempotency_key: str
    routing_key: str
    attempts: int


def intent_message(intent: Intent, vendor: str) -> aio_pika.Message:
    """Persistent JSON, ``user_id`` the vendor (the broker checks it against the login) and
    ``message_id`` the idempotency key, so the hub can name the intent even if the body is bad.
    ``timestamp`` is the publish time (whole seconds, AMQP's resolution): the hub measures
    publish-to-applied latency from it."""
    return aio_pika.Message(
        intent.to_json().encode("utf-8"),
        content_type=CONTENT_TYPE,
        delivery_mode=aio_pika.DeliveryMode(PERSISTENT),
        user_id=vendor,
        message_id=intent.idempotency_key,
        correlation_id=intent.correlation_id,
        type=f"{intent.contract}.v{intent.version}",
        timestamp=datetime.now(UTC),
    )


def receipt(intent: Intent, attempts: int) -> PublishReceipt:
    return PublishReceipt(
        contract=intent.contract,
        version=intent.version,
        office_id=intent.office_id,
        idempotency_key=intent.idempotency_key,
        routing_key=intent.routing_key(),
        attempts=attempts,
    )
