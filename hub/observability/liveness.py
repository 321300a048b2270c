"""The writer's liveness (``/healthz``): does its event loop run, and does every lane make
progress while it has work?

Written on the writer's event loop, read from the observability server's own thread: a stalled
loop cannot answer for itself, so the answer is computed where it still runs. One lock guards
the few values; writes are a dict assignment, reads copy them.

- **The event loop.** ``watching_loop`` runs a heartbeat on the loop every ``heartbeat_s``; a
  loop that has not beaten for ``loop_stall_s`` is stalled (a blocking call, a long CPU-bound
  step). How late each beat ran is the loop's lag, ``hub_event_loop_lag_seconds``.
- **The lanes.** A lane calls ``busy(office)`` when it starts work that must end in bounded
  time (processing or settling one delivery) and ``idle(office)`` once it is done; waiting for
  a message, for a retry or through a pause is idle. A lane busy longer than ``lane_busy_s``
  has stopped making progress. A lane whose task ended while the writer still runs (``watch``)
  is gone until the writer restarts.

Nothing a lane calls here raises: a failure is logged and counted
(``hub_wrapper_errors_total{wrapper="liveness"}``) and the lane goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from hub.settings import HealthSettings, WriterSettings

log = logging.getLogger(__name__)

LIVENESS = "liveness"  # the wrapper label a reporting failure is counted under
EVENT_LOOP = "event_loop"
LANES = "lanes"
LANE = "lane:"  # followed by the office id
OK = "ok"
# Past two attempt timeouts (a reconciliation, then an attempt): the ledger's statements and
# the outcome's confirm (10 s by default) with room to spare.
LANE_BUSY_MARGIN_S = 60.0

Clock = Callable[[], float]


class LaneProgress(Protocol):
    """What a lane reports; each call is cheap and never raises."""

    def busy(self, office: str) -> None: ...

    def idle(self, office: str) -> None: ...


class LivenessMetrics(Protocol):
    """The part of ``HubMetrics`` liveness feeds."""

    def loop_lag(self, seconds: float) -> None: ...

    def wrapper_error(self, wrapper: str) -> None: ...


@dataclass(frozen=True, kw_only=True)
class LivenessLimits:
    heartbeat_s: float = 0.25
    loop_stall_s: float = 5.0
    lane_busy_s: float = 240.0

    @classmethod
    def of(cls, health: HealthSettings, writer: WriterSettings) -> LivenessLimits:
        busy_s = health.lane_busy_limit_s
        if busy_s is None:
            busy_s = 2 * writer.attempt_timeout_s + LANE_BUSY_MARGIN_S
        return cls(
            heartbeat_s=health.heartbeat_s, loop_stall_s=health.loop_stall_s, lane_busy_s=busy_s
        )


@dataclass(frozen=True, kw_only=True)
class Health:
    """What ``/healthz`` answers: the loop's problem if any, and each failing lane's."""

    loop_problem: str | None
    lanes: int
    lane_problems: Mapping[str, str] = field(default_factory=dict)  # office → why

    @property
    def alive(self) -> bool:
        return self.loop_problem is None and not self.lane_problems

    def checks(self) -> dict[str, str]:
        """Each check's state ("ok" or why not), the failing lanes by name."""
        failing = len(self.lane_problems)
        lanes = OK if not failing else f"{failing} of {self.lanes} not making progress"
        checks = {EVENT_LOOP: self.loop_problem or OK, LANES: lanes}
        checks.update({LANE + office: why for office, why in self.lane_problems.items()})
        return checks

    def failing(self) -> list[str]:
        loop = [] if self.loop_problem is None else [EVENT_LOOP]
        return loop + sorted(LANE + office for office in self.lane_problems)


class Liveness:
    def __init__(
        self,
        limits: LivenessLimits,
        metrics: LivenessMetrics | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.limits = limits
        self._metrics = metrics
        self._clock = clock
        self._lock = threading.Lock()
        self._last_beat: float | None = None  # None: no heartbeat runs, nothing to judge
        self._lanes: set[str] = set()
        self._busy_since: dict[str, float] = {}
        self._ended: set[str] = set()

    # On the writer's event loop ----------------------------------------------------------------

    @asynccontextmanager
    async def watching_loop(self) -> AsyncIterator[None]:
        """The running loop's heartbeat, for the block."""
        self._beat(None)
        beating = asyncio.create_task(self._heartbeat(), name="liveness heartbeat")
        try:
            yield
        finally:
            beating.cancel()
            # gather: the heartbeat's own cancellation is its result, the caller's still raises
            await asyncio.gather(beating, return_exceptions=True)
            with self._lock:
                self._last_beat = None

    def busy(self, office: str) -> None:
        """The office's lane started work that must end in bounded time."""
        try:
            now = self._clock()
            with self._lock:
                self._lanes.add(office)
                self._busy_since[office] = now
                self._ended.discard(office)
        except Exception:
            self._failed("busy")

    def idle(self, office: str) -> None:
        """The office's lane finished that work; it waits now (for a message, a retry...)."""
        try:
            with self._lock:
                self._lanes.add(office)
                self._busy_since.pop(office, None)
                self._ended.discard(office)
        except Exception:
            self._failed("idle")

    def ended(self, office: str) -> None:
        """The office's lane is gone while the writer runs; a later ``busy`` or ``idle`` (a
        lane started again) clears it."""
        try:
            with self._lock:
                self._lanes.add(office)
                self._busy_since.pop(office, None)
                self._ended.add(office)
        except Exception:
            self._failed("ended")

    def watch(self, office: str, task: asyncio.Task[object], stopping: asyncio.Event) -> None:
        """The office's lane runs as ``task``: it has ended if the task ends before
        ``stopping`` is set (after, it was told to)."""

        def on_done(_: asyncio.Task[object]) -> None:
            if not stopping.is_set():
                self.ended(office)

        self.idle(office)
        task.add_done_callback(on_done)

    # From any thread ---------------------------------------------------------------------------

    def health(self) -> Health:
        now = self._clock()
        with self._lock:
            last_beat = self._last_beat
            busy_since = dict(self._busy_since)
            ended = set(self._ended)
            lanes = len(self._lanes)
        limit_s = self.limits.lane_busy_s
        problems = {office: "ended while the writer runs" for office in ended}
        for office, since in busy_since.items():
            busy_s = now - since
            if busy_s > limit_s:
                problems[office] = f"busy on one delivery for {busy_s:.1f} s (limit {limit_s:g} s)"
        return Health(loop_problem=self._loop_problem(now, last_beat), lanes=lanes,
                      lane_problems=problems)

    # -------------------------------------------------------------------------------------------

    def _loop_problem(self, now: float, last_beat: float | None) -> str | None:
        if last_beat is None:
            return None
        late_s = now - last_beat - self.limits.heartbeat_s
        if late_s <= self.limits.loop_stall_s:
            return None
        return f"event loop stalled for {late_s:.1f} s (limit {self.limits.loop_stall_s:g} s)"

    async def _heartbeat(self) -> None:
        interval_s = self.limits.heartbeat_s
        while True:
            due = self._clock() + interval_s
            await asyncio.sleep(interval_s)
            self._beat(max(0.0, self._clock() - due))

    def _beat(self, lag_s: float | None) -> None:
        """A beat, and how late it ran (None: the first, which was not due)."""
        try:
            now = self._clock()
            with self._lock:
                self._last_beat = now
            if self._metrics is not None and lag_s is not None:
                self._metrics.loop_lag(lag_s)
        except Exception:
            self._failed("heartbeat")

    def _failed(self, what: str) -> None:
        """Reporting must never end a lane, nor its own failure's report."""
        with contextlib.suppress(Exception):
            log.exception("liveness: %s could not be recorded; the lane goes on", what)
            if self._metrics is not None:
                self._metrics.wrapper_error(LIVENESS)
