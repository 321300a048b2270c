"""Order within an office, pure: intents a writer applied before an intent published earlier.

A vendor publishes its stream to an office one intent after another, each once the broker
confirmed the one before, so the stream's order is the order the office queue holds them in
(a vendor's streams to different offices, and different vendors, publish concurrently: no order
between them is promised). An applied intent is out of order when another intent of its stream,
published before it, was applied after it: the ledger's finish time tells the apply order, and
its row id (the order of first claims) breaks a tie. A re-sent or redelivered intent is one
intent (its key's first publish counts): applying it again is a duplicate, not disorder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from lab.chaos.ledger_rows import Finish, VendorKey
from lab.chaos.publishing import Sent

Stream = tuple[str, str]  # (vendor, office)


def publish_order(sent: Sequence[Sent]) -> dict[Stream, list[str]]:
    """Each stream's keys in the order the broker confirmed them (a key once: its first)."""
    order: dict[Stream, list[str]] = {}
    seen: set[VendorKey] = set()
    for one in sent:
        planned = one.planned
        if one.confirmed and (planned.vendor, planned.key) not in seen:
            seen.add((planned.vendor, planned.key))
            order.setdefault((planned.vendor, planned.office), []).append(planned.key)
    return order


def overtakers(order: Mapping[Stream, Sequence[str]], ledger: Mapping[VendorKey, Finish]
               ) -> Counter[str]:
    """Per office, applied intents applied before an intent of their stream published earlier."""
    by_office: Counter[str] = Counter()
    for (vendor, office), keys in order.items():
        applied: list[tuple[datetime, int, int]] = []
        for index, key in enumerate(keys):
            finish = ledger.get((vendor, key))
            if finish is not None and finish.status == "applied" and finish.finished_at:
                applied.append((finish.finished_at, finish.row_id, index))
        applied.sort()
        # Walking the apply order backwards: an intent overtook when one published before it
        # is applied later.
        lowest_later = len(keys)
        for _, _, index in reversed(applied):
            if lowest_later < index:
                by_office[office] += 1
            lowest_later = min(lowest_later, index)
    return by_office
