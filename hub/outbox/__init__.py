"""The outbox of outcome events: a vendor the broker cannot reach never holds an office's lane.

An outcome event is published to ``hub.outcomes`` (mandatory, confirmed) after the ledger's
result. When the broker will not take it (the vendor's queue ``hub.outcomes.<vendor>`` was
deleted, so the publish is returned; the queue is full and nacks; the confirm times out; the
channel is gone), the intent's decision stands all the same: the event is written to the hub
database (``outcome_outbox``, ledger migration 9) and the delivery is acked. Only if that write
fails too does the lane hold the message, as for any failure of the hub's own database.

    finish ─▶ ledger result ─▶ publish ──refused──▶ outbox row ─▶ ack
                                                       │
    relay (one per writer, every few seconds) ◀────────┘  oldest first per vendor; deleted once
                                                          confirmed; dropped after the ledger's
                                                          retention (WARNING, counted)

- **Order per vendor.** While a vendor has outcomes waiting, its new outcomes join them in the
  outbox instead of overtaking them, and the relay stops at a vendor's first failure.
- **Several writers.** Each runs a relay. A relay locks a vendor's oldest rows
  (``FOR UPDATE SKIP LOCKED``) and goes on only if it holds the vendor's head, so two relays
  never publish the same row, nor one vendor's rows side by side.
- **Visible.** ``hub_outcomes_waiting`` and ``hub_outcomes_waiting_oldest_seconds`` per vendor,
  the ``HubOutcomesUndeliverable`` alert, and ``hub status``.

A row holds the event as the vendor will receive it; it is stored, never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from contracts import OutcomeEvent


@dataclass(frozen=True, kw_only=True)
class KeptOutcome:
    """One waiting outcome event, as the relay publishes it."""

    id: int  # decision order
    vendor: str
    office: str
    intent_id: int | None
    routing_key: str
    correlation_id: str | None
    event_json: str
    age_s: float  # since it was kept, by the database's clock


@dataclass(frozen=True, kw_only=True)
class Waiting:
    """A vendor's waiting outcomes, for ``hub status`` and the metrics."""

    vendor: str
    count: int
    oldest_s: float  # the age of the vendor's oldest waiting event
    attempts: int  # the relay's tries of that oldest event so far
    last_error: str | None  # why its last try failed; None if not tried yet


class OutcomeOutbox(Protocol):
    """Settlement's side of the outbox."""

    def has_waiting(self, vendor: str) -> bool:
        """Outcomes of ``vendor`` wait already (as this writer last saw): new ones go behind."""
        ...

    async def keep(self, event: OutcomeEvent, *, intent_id: int | None, error: str | None) -> None:
        """Write the event for the relay; ``error`` is why it was not published (None: it was
        not tried, because others of its vendor wait). Raises ``TransientError`` or
        ``LedgerError`` as the ledger does."""
        ...
