"""What ``hub dlq`` reads, where it reads it, and how far one scan may go."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from aio_pika.abc import FieldValue

from hub import names
from hub.dlq import constants as c
from hub.errors import HubError


class DlqError(HubError):
    """The dead-letter queue could not be read, or a replay or purge could not go on.

    Whatever was not yet replaced (re-published and confirmed, or recorded as purged) is back
    on the queue: the connection's unacked messages return to it when it closes.
    """


class ImpersonationRefused(DlqError):
    """The broker refused to let the hub's user publish with a vendor's ``user_id``."""


class Source(StrEnum):
    """Who dead-lettered the message."""

    WRITER = "writer"  # rejected or dead, with the x-hub-* headers
    BROKER = "broker"  # past a queue's delivery limit (or expired): x-death, no trusted x-hub-*


@dataclass(frozen=True, kw_only=True)
class DlqNames:
    """The queue ``hub dlq`` reads and the exchange it replays to; tests inject their own."""

    queue: str = names.DEAD_LETTER_QUEUE
    # hub.replay: routed like hub.intents, and the writer reopens a rejected or dead intent
    # replayed through it (no vendor may write to it).
    intents_exchange: str = names.REPLAY_EXCHANGE


@dataclass(frozen=True, kw_only=True)
class ScanBounds:
    """One scan reads at most this many messages, for at most this long, holding them all."""

    max_messages: int = c.DEFAULT_SCAN_MAX_MESSAGES
    max_seconds: float = c.DEFAULT_SCAN_MAX_S


# Immutable defaults for keyword arguments.
DEFAULT_NAMES = DlqNames()
DEFAULT_BOUNDS = ScanBounds()


class ScanEnd(StrEnum):
    """Why a scan stopped: only ``END`` means every message of the queue was seen (and the
    queue keeps its order); at a bound, what was read goes back behind the rest."""

    END = "end"  # the queue had no more ready messages
    MAX_MESSAGES = "max_messages"  # the scan's count bound
    MAX_TIME = "max_time"  # the scan's time bound


@dataclass(frozen=True, kw_only=True)
class ScanSummary:
    scanned: int  # messages read, matched or not
    unlisted: int  # matches past the limit, given back untouched
    end: ScanEnd


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    """One dead letter as the queue holds it, with the fields the filters and tables use.

    ``body`` may hold patient data: it stays out of ``repr`` and is printed only on request.
    """

    position: int  # 0 for the first message this scan read
    source: Source
    message_id: str | None
    idempotency_key: str | None  # the writer's header, else the message id
    vendor: str | None  # the broker-validated user_id, else the writer's header
    office: str | None
    contract: str | None
    reason: str | None
    dead_lettered_at: datetime | None
    attempts: int | None
    routing_key: str  # the key it was dead-lettered with
    properties: Mapping[str, FieldValue]  # AMQP basic properties that are set
    headers: Mapping[str, FieldValue]
    body: bytes = field(repr=False)
