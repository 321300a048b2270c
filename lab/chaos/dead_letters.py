"""What waits in the run broker's ``hub.dead``, read with ``hub dlq``'s scan: it holds every
message it reads and gives all of them back in order, so the queue is left as it was."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from hub import names
from hub.dlq import DeadLetter, DeadLetterFilter, ScanBounds, ScanEnd, Source, list_dead_letters
from hub.settings import HubSettings
from lab.chaos.ledger_rows import VendorKey

SCAN_MAX_S = 300.0


@dataclass(frozen=True, kw_only=True)
class Letter:
    reason: str | None
    source: Source  # the writer (rejected or dead) or the broker (past the delivery limit)


@dataclass(frozen=True, kw_only=True)
class DeadLetters:
    by_intent: dict[VendorKey, list[Letter]]
    scanned: int
    complete: bool  # the scan read to the queue's end
    unnamed: int  # letters without a vendor or idempotency key
    from_broker: int = 0  # letters the broker dead-lettered by itself, named or not


def dead_lettered_by_broker(letter: DeadLetter) -> bool:
    # x-death without the hub's reason: a writer that dead-letters by rejecting also leaves
    # x-death, but with its reason beside it.
    return letter.source is Source.BROKER and names.HEADER_REASON not in letter.headers


async def read_dead_letters(settings: HubSettings, max_messages: int) -> DeadLetters:
    """Every dead letter, by (vendor, idempotency key); ``settings.broker_url`` is the run's."""
    bounds = ScanBounds(max_messages=max_messages, max_seconds=SCAN_MAX_S)
    report = await list_dead_letters(settings, DeadLetterFilter(limit=max_messages),
                                     bounds=bounds)
    by_intent: dict[VendorKey, list[Letter]] = defaultdict(list)
    unnamed = 0
    from_broker = sum(1 for letter in report.letters if dead_lettered_by_broker(letter))
    for letter in report.letters:
        if letter.vendor is None or letter.idempotency_key is None:
            unnamed += 1
            continue
        by_intent[(letter.vendor, letter.idempotency_key)].append(
            Letter(reason=letter.reason, source=letter.source)
        )
    return DeadLetters(
        by_intent=dict(by_intent), scanned=report.summary.scanned,
        complete=report.summary.end is ScanEnd.END, unnamed=unnamed, from_broker=from_broker,
    )
