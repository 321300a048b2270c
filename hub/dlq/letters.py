"""A message of the dead-letter queue read as a ``DeadLetter``.

The writer's dead letters say everything in ``x-hub-*`` headers; the vendor is in
``x-hub-vendor`` (the writer cannot keep a ``user_id`` that is not its own) unless ``user_id`` is
there too. The broker's own (a poison message past its office queue's delivery limit) carry
``x-death``: its reason (``delivery_limit``), its time and the original routing key
``<office>.<contract>``; they keep the vendor's broker-validated ``user_id`` and arrive with the
key ``dead.<office>``.

Any ``x-hub-*`` header on a broker dead letter was set by the vendor itself, not by the hub, so
a message with ``x-death`` is read from ``x-death`` and its properties only: a vendor cannot name
another vendor by a header, and a replay cannot be made to publish as someone else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from aio_pika.abc import AbstractIncomingMessage, FieldValue

from hub import names
from hub.dlq.constants import EXPIRED, X_DEATH
from hub.dlq.model import DeadLetter, Source

_DEAD_KEY_PREFIX = names.dead_letter_key("")


def dead_letter(message: AbstractIncomingMessage, position: int) -> DeadLetter:
    headers: dict[str, FieldValue] = dict(message.headers or {})
    return _letter(message, position, headers, _latest_death(headers))


def expired_letter(
    message: AbstractIncomingMessage, dead_queue: str
) -> tuple[DeadLetter, Mapping[str, FieldValue]]:
    """A message that expired from ``dead_queue`` (its retention), read as the dead letter it
    was there, and the broker's ``x-death`` entry of that expiry (empty if it has none).

    The expiry adds an ``x-death`` entry of its own, first; the letter is read from what was
    there before it, so a writer's dead letter keeps its trusted ``x-hub-*`` headers and a
    broker's poison letter is still read from its own ``x-death`` only."""
    headers: dict[str, FieldValue] = dict(message.headers or {})
    deaths = headers.get(X_DEATH)
    entries = [d for d in deaths if isinstance(d, dict)] if isinstance(deaths, list) else []
    expiry: Mapping[str, FieldValue] = {}
    first = entries[0] if entries else {}
    if _text(first, "queue") == dead_queue and _text(first, "reason") == EXPIRED:
        expiry, entries = entries[0], entries[1:]
    return _letter(message, 0, headers, entries[0] if entries else {}), expiry


def _letter(
    message: AbstractIncomingMessage, position: int, headers: dict[str, FieldValue],
    death: Mapping[str, FieldValue],
) -> DeadLetter:
    # The writer's headers, when the writer wrote them: see the module's docstring.
    trusted: Mapping[str, FieldValue] = {} if death else headers
    office, contract = _office_and_contract(trusted, death, message.routing_key or "")
    return DeadLetter(
        position=position,
        source=Source.BROKER if death else Source.WRITER,
        message_id=message.message_id,
        idempotency_key=_text(trusted, names.HEADER_IDEMPOTENCY_KEY) or message.message_id,
        vendor=message.user_id or _text(trusted, names.HEADER_VENDOR),
        office=office,
        contract=contract,
        reason=_text(trusted, names.HEADER_REASON) or _text(death, "reason"),
        dead_lettered_at=(
            header_moment(trusted.get(names.HEADER_DEAD_LETTERED_AT))
            or header_moment(death.get("time"))
        ),
        attempts=header_count(trusted.get(names.HEADER_ATTEMPTS)),
        routing_key=message.routing_key or "",
        properties=properties(message),
        headers=headers,
        body=message.body,
    )


def properties(message: AbstractIncomingMessage) -> dict[str, FieldValue]:
    """The AMQP basic properties the message carries (``headers`` aside), by their AMQP names."""
    values: dict[str, FieldValue] = {
        "content_type": message.content_type,
        "content_encoding": message.content_encoding,
        "delivery_mode": None if message.delivery_mode is None else int(message.delivery_mode),
        "priority": message.priority,
        "correlation_id": message.correlation_id,
        "reply_to": message.reply_to,
        "expiration": message.properties.expiration,  # milliseconds, as sent
        "message_id": message.message_id,
        "timestamp": message.timestamp,
        "type": message.type,
        "user_id": message.user_id,
        "app_id": message.app_id,
    }
    return {name: value for name, value in values.items() if value is not None}


def _latest_death(headers: Mapping[str, FieldValue]) -> Mapping[str, FieldValue]:
    # The broker puts the most recent death first.
    deaths = headers.get(X_DEATH)
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]
    return {}


def _office_and_contract(
    headers: Mapping[str, FieldValue], death: Mapping[str, FieldValue], routing_key: str
) -> tuple[str | None, str | None]:
    office = _text(headers, names.HEADER_OFFICE)
    contract = _text(headers, names.HEADER_CONTRACT)
    if office is None and routing_key.startswith(_DEAD_KEY_PREFIX):
        office = routing_key.removeprefix(_DEAD_KEY_PREFIX) or None
    original = _original_key(death)
    if original is not None:
        key_office, _, key_contract = original.partition(".")
        office = office or key_office or None
        if contract is None and key_office == office:
            contract = key_contract or None
    return office, contract


def _original_key(death: Mapping[str, FieldValue]) -> str | None:
    keys = death.get("routing-keys")
    if isinstance(keys, list) and keys and isinstance(keys[0], str):
        return keys[0]
    return None


def _text(table: Mapping[str, FieldValue], name: str) -> str | None:
    value = table.get(name)
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    return value if isinstance(value, str) and value else None


def header_moment(value: FieldValue) -> datetime | None:
    """A header time: an AMQP timestamp, Unix seconds, or ISO 8601 text; naive means UTC."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("ascii", errors="replace")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def header_count(value: FieldValue) -> int | None:
    """A count or an id in a header: an integer, or its digits as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str | bytes) and value.isdigit():
        return int(value)
    return None
