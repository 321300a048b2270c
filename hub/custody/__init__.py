"""Custody: the deliveries an office's lane has taken off the broker without deciding them.

RabbitMQ decides for a consumer that keeps a delivery unacked too long: past ``consumer_timeout``
it closes the channel and hands every unacked delivery back, and a quorum queue counts each hand-
back against ``x-delivery-limit``, then dead-letters. A dental office's Open Dental is off every
night and often all weekend, and operators pause an office or a vendor for days, so a lane never
holds a delivery unacked for long. It *parks* it instead: the message (body and properties) is
written to the hub database, then acked, and the lane runs it later from there.

    office queue ──▶ lane ──long hold──▶ park (one transaction, delivery order) ─▶ ack
                       ▲                   │
                       └──── drain ◀───────┘  parked first, in order, then the queue again

- **Holds.** A lane that parks for a long hold first takes its office's hold (one row per office:
  the writer that may drain the office's parked deliveries), then cancels its consumer, parks what
  it has in hand and acks it. Another writer standing by on the office queue (single active
  consumer) is then given the queue; on its first delivery it finds the hold and hands that
  delivery back, so nothing published later overtakes what is parked. The owner renews its hold;
  a hold nobody renewed for a while belongs to a writer gone, and another writer adopts it.
- **Paused vendors.** A paused vendor's delivery is parked at once, and the lane goes on with the
  other vendors' messages; once the vendor is resumed, its parked deliveries run before anything
  else of the office.

A parked row holds patient data, like the queue it came from; it is deleted once the delivery
is decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hub.writer.office_queue import Delivery


@dataclass(frozen=True, kw_only=True)
class Hold:
    """One office's hold: which writer may drain its parked deliveries, and why it stood down."""

    office: str
    writer_id: str
    cause: str
    since: datetime
    idle_s: float  # since its writer last renewed it, by the database's clock


@dataclass(frozen=True, kw_only=True)
class Parked:
    """A parked delivery, as it will run again (its re-runs and crashes so far kept)."""

    id: int  # the park order: the broker's delivery order within the office
    delivery: Delivery


class Custody(Protocol):
    """The hub database's side of custody; every method is one short transaction."""

    async def take_hold(self, office: str, writer_id: str, cause: str) -> Hold | None:
        """Take the office's hold; None when taken (or ours already), else the other's hold."""
        ...

    async def adopt_hold(self, office: str, writer_id: str, *, stale_after_s: float) -> bool:
        """Take over a hold its writer stopped renewing ``stale_after_s`` ago or more."""
        ...

    async def release_hold(self, office: str, writer_id: str) -> None: ...

    async def release_holds(self, writer_id: str) -> int:
        """A writer stopping cleanly: its holds go (what they parked stays parked)."""
        ...

    async def renew_holds(self, writer_id: str) -> int: ...

    async def hold(self, office: str) -> Hold | None: ...

    async def park(
        self, office: str, writer_id: str, cause: str, deliveries: Sequence[Delivery]
    ) -> None:
        """Park the deliveries, in the order given, in one transaction."""
        ...

    async def parked(
        self, office: str, *, skip_vendors: frozenset[str], limit: int
    ) -> list[Parked]:
        """The office's first parked deliveries in park order, those of ``skip_vendors`` left."""
        ...

    async def keep(self, parked: Parked) -> None:
        """Still parked: record its re-runs and crashes so far."""
        ...

    async def unpark(self, parked_id: int) -> None:
        """Decided: the parked delivery goes (its ack)."""
        ...

    async def holds(self) -> dict[str, Hold]:
        """Every office's hold, for every writer's view (hub/control's watcher)."""
        ...

    async def parked_summary(self) -> dict[str, dict[str | None, int]]:
        """Per office, how many deliveries each vendor has parked (None: no vendor known)."""
        ...

    async def counts(self) -> dict[str, int]:
        """Parked deliveries per office, for ``hub status`` and the metrics."""
        ...
