"""What operators and writers tell each other through the hub database: pauses and lane status.

Every value here is a name, a state, an operator's words or an error code: never patient data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hub.custody import Hold
from hub.observability.labels import LaneState


class PauseKind(StrEnum):
    OFFICE = "office"  # the office's lane takes no message; the broker keeps them
    VENDOR = "vendor"  # the broker refuses the vendor's publishes; lanes hold its messages


class PauseAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True, kw_only=True)
class Pause:
    kind: PauseKind
    name: str
    paused_by: str
    reason: str | None
    paused_at: datetime


@dataclass(frozen=True, kw_only=True)
class Pauses:
    """Every pause in force, as one writer last read them."""

    offices: Mapping[str, Pause] = field(default_factory=dict)
    vendors: Mapping[str, Pause] = field(default_factory=dict)

    @classmethod
    def of(cls, pauses: Iterable[Pause]) -> Pauses:
        listed = list(pauses)
        return cls(
            offices={p.name: p for p in listed if p.kind is PauseKind.OFFICE},
            vendors={p.name: p for p in listed if p.kind is PauseKind.VENDOR},
        )

    def office_paused(self, office: str) -> bool:
        return office in self.offices

    def vendor_paused(self, vendor: str | None) -> bool:
        return vendor is not None and vendor in self.vendors


@dataclass(frozen=True, kw_only=True)
class ControlView:
    """What one writer last read of the operators' pauses and of every office's custody: its
    lanes decide from it whether to consume, hand back, stand down or drain (hub/writer/lanes)."""

    pauses: Pauses = field(default_factory=Pauses)
    holds: Mapping[str, Hold] = field(default_factory=dict)  # by office
    # office → vendor → parked deliveries (None: a message without a vendor)
    parked: Mapping[str, Mapping[str | None, int]] = field(default_factory=dict)
    live_writers: frozenset[str] = frozenset()  # writers whose heartbeat is fresh
    owners: Mapping[str, str] = field(default_factory=dict)  # office → the writer serving it
    read_at_s: float = float("-inf")  # the reading writer's monotonic clock

    def hold(self, office: str) -> Hold | None:
        return self.holds.get(office)

    def owner(self, office: str) -> str | None:
        return self.owners.get(office)

    def runnable_parked(self, office: str) -> bool:
        """Whether the office has parked deliveries that may run now (vendor not paused)."""
        return any(not self.pauses.vendor_paused(vendor) for vendor in self.parked.get(office, {}))

    def parked_counts(self) -> dict[str, int]:
        return {office: sum(vendors.values()) for office, vendors in self.parked.items()}

    def same_state(self, other: ControlView) -> bool:
        """Equal but for when it was read (and how long each hold has gone unrenewed)."""
        return _state(self) == _state(other)


def _state(view: ControlView) -> tuple[object, ...]:
    holds = {office: (h.writer_id, h.cause, h.since) for office, h in view.holds.items()}
    return view.pauses, holds, dict(view.parked), view.live_writers


@dataclass(frozen=True, kw_only=True)
class LaneReport:
    """What a writer says of one of its lanes."""

    office: str
    state: LaneState
    in_flight: int  # messages delivered to the lane and not yet acked (held ones included)
    serving: bool  # this writer owns the office (hub/control/ownership.py); else it stands by
    last_error: str | None  # an outcome and reason code, e.g. "retry_later: 5xx"
    last_error_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class LaneRow:
    """A lane_status row as ``hub status`` reads it back."""

    office: str
    writer_id: str
    state: str
    in_flight: int
    serving: bool
    last_error: str | None
    last_error_at: datetime | None
    updated_at: datetime
    age_s: float  # since the writer last wrote it, by the database's clock


@dataclass(frozen=True, kw_only=True)
class WriterRow:
    """A writer's heartbeat, as ``hub status`` reads it back."""

    writer_id: str
    started_at: datetime
    beat_s_ago: float  # by the database's clock
