"""The outage run's acts, on stand-in switches: each begins and ends at its offsets, the timeline
returned is the one that happened, and one act that fails stops the others with its own error."""

from __future__ import annotations

import asyncio
import time

import pytest

from lab.chaos.config import ChaosError
from lab.chaos.outage.acts import QUEUE_GONE, VENDOR_PAUSE, Switch, act
from lab.chaos.outage.timeline import Disruption, Timeline, Window


def _timeline() -> Timeline:
    return Timeline(
        disrupted={"o1": (Disruption.UNAUTHORIZED, Window(start_s=0.05, end_s=0.25))},
        steady=("o2",), paused_vendor="v1", vendor_pause=Window(start_s=0.1, end_s=0.2),
        queue_vendor="v2", queue_gone=Window(start_s=0.0, end_s=0.3), publish_s=0.4,
    )


def _switch(what: str, window: Window, done: list[str], fail: bool = False) -> Switch:
    async def begin() -> None:
        done.append(f"{what} begins")
        if fail:
            raise ChaosError(f"{what} could not begin")

    async def end() -> None:
        done.append(f"{what} ends")

    return Switch(what=what, window=window, begin=begin, end=end)


def _switches(timeline: Timeline, done: list[str], failing: str | None = None
              ) -> dict[str, Switch]:
    windows = {"o1": timeline.disrupted["o1"][1], VENDOR_PAUSE: timeline.vendor_pause,
               QUEUE_GONE: timeline.queue_gone}
    return {key: _switch(key, window, done, fail=key == failing)
            for key, window in windows.items()}


async def test_each_switch_begins_and_ends_at_its_offsets() -> None:
    # Given three disruptions over 0.3 s
    timeline, done, lines = _timeline(), [], []
    # When they are acted
    started = asyncio.get_running_loop().time()
    happened = await act(timeline, _switches(timeline, done), started, lines.append)
    # Then each began and ended in the planned order, and the timeline holds what happened
    assert done == ["outcome queue gone begins", "o1 begins", "vendor pause begins",
                    "vendor pause ends", "o1 ends", "outcome queue gone ends"]
    # (no switch acts before its offset; how late one acts is the machine's, so not asserted)
    kind, window = happened.disrupted["o1"]
    early_s = time.get_clock_info("monotonic").resolution  # the loop may wake this early
    assert kind is Disruption.UNAUTHORIZED
    assert window.start_s >= 0.05 - early_s and window.end_s >= 0.25 - early_s
    assert happened.vendor_pause.start_s >= 0.1 - early_s
    assert happened.vendor_pause.end_s >= 0.2 - early_s
    assert len(lines) == 6


async def test_a_failing_switch_stops_the_others_with_its_own_error() -> None:
    # Given a vendor pause that cannot begin
    timeline, done = _timeline(), []
    acts = _switches(timeline, done, failing=VENDOR_PAUSE)
    # When the timeline is acted
    started = asyncio.get_running_loop().time()
    # Then its error is raised, and no other disruption ends afterwards
    with pytest.raises(ChaosError, match="vendor pause could not begin"):
        await act(timeline, acts, started, [].append)
    await asyncio.sleep(0.3)
    assert done == ["outcome queue gone begins", "o1 begins", "vendor pause begins"]
