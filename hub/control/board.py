"""Each office lane's state, as the writer knows it: fed by the lanes' decisions and by the
operators' pauses, read by the metrics (``hub_lane_state``, ``hub_intents_in_flight``) and by
the lane status reporter (``hub status``).

A lane is ``paused`` while an operator pauses its office or while Open Dental refuses its key
(401); ``backing_off`` while it waits to retry a transient failure; ``running`` otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.control.model import LaneReport, Pauses
from hub.observability import HubMetrics, LaneState
from hub.observability.labels import PauseCause


def _none_in_flight() -> int:
    return 0


@dataclass
class _Lane:
    decided: LaneState = LaneState.RUNNING
    cause: PauseCause | None = None  # why its last decision paused it
    paused_by_operator: bool = False
    last_error: str | None = None
    last_error_at: datetime | None = None
    in_flight: Callable[[], int] = _none_in_flight
    in_flight_shown: int = 0  # what the gauge says now (it moves by increments)

    @property
    def state(self) -> LaneState:
        return LaneState.PAUSED if self.paused_by_operator else self.decided

    @property
    def pause_cause(self) -> PauseCause | None:
        if self.paused_by_operator:
            return PauseCause.OPERATOR
        return self.cause if self.decided is LaneState.PAUSED else None


class LaneBoard:
    def __init__(self, offices: Iterable[str], metrics: HubMetrics) -> None:
        self._metrics = metrics
        self._lanes = {office: _Lane() for office in offices}
        self.changed = asyncio.Event()  # set on every state change; the reporter clears it
        for office in self._lanes:
            metrics.lane_state(office, LaneState.RUNNING)

    def attach(self, office: str, in_flight: Callable[[], int]) -> None:
        """Where the office's in-flight count comes from (its lane's gate)."""
        self._lanes[office].in_flight = in_flight

    def state(self, office: str, state: LaneState, cause: str | None = None) -> None:
        """What the lane does now, as its last decision made it (and why, when paused)."""
        lane = self._lanes.get(office)
        if lane is not None:
            before = lane.state, lane.pause_cause
            lane.decided = state
            lane.cause = None if cause is None else PauseCause.of(cause)
            self._show(office, lane, before)

    def error(self, office: str, code: str) -> None:
        """The lane's latest failure, as an outcome and reason or cause code."""
        lane = self._lanes.get(office)
        if lane is not None:
            lane.last_error, lane.last_error_at = code, datetime.now(UTC)
            self.changed.set()

    def pauses(self, pauses: Pauses) -> None:
        """The operators' pauses in force, as the watcher last read them."""
        for office, lane in self._lanes.items():
            before = lane.state, lane.pause_cause
            lane.paused_by_operator = pauses.office_paused(office)
            self._show(office, lane, before)

    def measure_in_flight(self) -> None:
        for office, lane in self._lanes.items():
            now = lane.in_flight()
            if now != lane.in_flight_shown:
                self._metrics.in_flight(office, now - lane.in_flight_shown)
                lane.in_flight_shown = now

    def reports(self, serving: Callable[[str], bool]) -> list[LaneReport]:
        return [
            LaneReport(
                office=office,
                state=lane.state,
                in_flight=lane.in_flight(),
                serving=serving(office),
                last_error=lane.last_error,
                last_error_at=lane.last_error_at,
            )
            for office, lane in sorted(self._lanes.items())
        ]

    def _show(
        self, office: str, lane: _Lane, before: tuple[LaneState, PauseCause | None]
    ) -> None:
        if (lane.state, lane.pause_cause) != before:
            self._metrics.lane_state(office, lane.state)
            self._metrics.lane_pause_cause(office, lane.pause_cause)
            self.changed.set()
