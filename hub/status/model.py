"""What ``hub status`` shows: one line per office lane and writer (the writer serving the office
and those standing by), each writer's share of the offices, the dead letters, the outcome
events waiting for their vendors, the paused vendors. Names, states, counts, operators' words and
error codes only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.control.model import Pause
from hub.custody import Hold
from hub.outbox import Waiting

NO_WRITER = "no writer"  # the office has a queue or a pause, but no writer reports its lane
STALE = "stale"  # the writer stopped refreshing its row: it is gone (or cannot reach the DB)


@dataclass(frozen=True, kw_only=True)
class LaneLine:
    office: str
    state: str  # running, backing_off, paused, stale (…), or no writer
    queue_depth: int | None  # ready messages in hub.office.<office>; None if unknown
    in_flight: int | None  # delivered to the writer's lane, not yet acked
    writer_id: str | None
    serving: bool | None  # the writer serves the office (else it stands by); None: no writer
    seen_s_ago: float | None
    last_error: str | None
    last_error_at: datetime | None
    pause: Pause | None
    parked: int | None  # deliveries parked in the hub database for the office; None if unknown
    hold: Hold | None  # the writer holding the office (standing down), and why


@dataclass(frozen=True, kw_only=True)
class WriterLine:
    """One writer's heartbeat and share of the offices."""

    writer_id: str
    live: bool  # its beat is fresher than HUB_CONTROL__WRITER_STALE_S
    beat_s_ago: float
    serving: int  # offices whose fresh lane row says this writer serves them


@dataclass(frozen=True, kw_only=True)
class HubStatus:
    lanes: list[LaneLine]
    writers: list[WriterLine]
    dead_letters: int | None  # messages in hub.dead; None if unknown
    # Per vendor, outcome events the broker would not take, waiting in the outbox; None if unknown
    outcomes_waiting: list[Waiting] | None
    paused_vendors: list[Pause]
    problems: list[str]  # sources that could not be read (the rest is still shown)
