"""The webhook ids whose forms the adapter published, remembered while a replay could pass.

A request whose id was published is answered from here and publishes nothing: 200 with the first
reply's intents when its body is the same (a resend, or a captured request replayed), 409 when
it is not (an id names one event, the spec says). An id is remembered until its timestamp plus
the tolerance: a replay of the same request after that is refused by the timestamp check. Two
requests of one id at the same moment may both publish: the same intents, duplicates in the hub.

The memory is in the process, as the spec suggests (a cache for the tolerance window), and
bounded. What outlives it is the hub's ledger: a form's intents keep keys derived from its
submission id, so a form published again (after a restart, or resent once forgotten here) is a
duplicate there and never a second patient.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.publisher import PublishReceipt

MAX_REMEMBERED = 100_000  # ids; only signed requests whose intents were confirmed get here


@dataclass(frozen=True, kw_only=True)
class Published:
    body_sha256: bytes
    receipts: tuple[PublishReceipt, ...]
    expires_at_s: float


class SeenWebhooks:
    def __init__(self, *, max_remembered: int = MAX_REMEMBERED) -> None:
        self._max = max_remembered
        self._published: dict[str, Published] = {}  # in the order they were published

    def get(self, webhook_id: str, *, now_s: float) -> Published | None:
        published = self._published.get(webhook_id)
        if published is not None and published.expires_at_s < now_s:
            del self._published[webhook_id]
            return None
        return published

    def remember(self, webhook_id: str, published: Published, *, now_s: float) -> None:
        self._published[webhook_id] = published
        # Expiries follow timestamps, which come roughly in order: drop the expired oldest, and
        # the oldest of all beyond the bound.
        while self._published:
            oldest_id, oldest = next(iter(self._published.items()))
            if oldest.expires_at_s >= now_s and len(self._published) <= self._max:
                break
            del self._published[oldest_id]
