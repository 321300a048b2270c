"""Who is disrupted, how and when, pure: offsets in seconds from the moment the vendors start
publishing.

Offices in world order: ``offices_per_kind`` lose their Open Dental to a refused connection,
the next as many to the eConnector (400), the next as many to a refused key (401); then one
office an operator pauses; the rest are steady. The first vendor is paused by an operator, the
second has its outcome queue deleted (and declared again when the last outage ends).

    0 ──baseline──▶ refused ─────────── outage ───────────▶
                      ├ stagger ▶ eConnector 400 ─── outage ───▶
                      │            ├ stagger ▶ 401 ─────── outage ──────▶ ──tail──▶ end
                      ├─▶ office paused (from half a stagger, one outage long)
                      │            vendor paused (one outage long) / outcome queue gone ──▶
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from lab.chaos.outage.config import OutageConfig
from lab.chaos.world import World


class Disruption(StrEnum):
    CONNECTION_REFUSED = "connection_refused"
    ECONNECTOR_DOWN = "econnector_down"
    UNAUTHORIZED = "unauthorized"
    OFFICE_PAUSED = "office_paused"


OUTAGES = (Disruption.CONNECTION_REFUSED, Disruption.ECONNECTOR_DOWN, Disruption.UNAUTHORIZED)


@dataclass(frozen=True, kw_only=True)
class Window:
    start_s: float
    end_s: float

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, kw_only=True)
class Timeline:
    disrupted: Mapping[str, tuple[Disruption, Window]]  # by office
    steady: tuple[str, ...]  # offices nothing happens to
    paused_vendor: str
    vendor_pause: Window
    queue_vendor: str  # whose outcome queue is deleted, then declared again
    queue_gone: Window
    publish_s: float

    @classmethod
    def draw(cls, world: World, config: OutageConfig) -> Timeline:
        offices, vendors = world.office_ids(), world.vendor_names()
        base, stagger, length = config.baseline_s, config.stagger_s, config.outage_s
        disrupted: dict[str, tuple[Disruption, Window]] = {}
        for turn, kind in enumerate(OUTAGES):
            start = base + turn * stagger
            first = turn * config.offices_per_kind
            for office in offices[first:first + config.offices_per_kind]:
                disrupted[office] = (kind, Window(start_s=start, end_s=start + length))
        paused = offices[3 * config.offices_per_kind]
        pause_start = base + stagger / 2
        disrupted[paused] = (Disruption.OFFICE_PAUSED,
                             Window(start_s=pause_start, end_s=pause_start + length))
        last_end = base + 2 * stagger + length
        return cls(
            disrupted=disrupted, steady=tuple(offices[3 * config.offices_per_kind + 1:]),
            paused_vendor=vendors[0],
            vendor_pause=Window(start_s=base + stagger, end_s=base + stagger + length),
            queue_vendor=vendors[1], queue_gone=Window(start_s=base + stagger, end_s=last_end),
            publish_s=config.publish_s,
        )

    def outage_span(self) -> Window:
        """From the first disruption's start to the last one's end."""
        windows = [w for _, w in self.disrupted.values()] + [self.vendor_pause, self.queue_gone]
        return Window(start_s=min(w.start_s for w in windows),
                      end_s=max(w.end_s for w in windows))
