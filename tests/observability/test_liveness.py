"""/healthz over real HTTP: it fails while the event loop it watches is stalled and while a lane
is busy past its limit or gone, names what and why, and passes again once that is over; the
calls a lane makes never raise."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from hub.observability import HubMetrics, Liveness, LivenessLimits, serving
from hub.observability.liveness import LANE_BUSY_MARGIN_S
from hub.settings import HealthSettings, WriterSettings
from tests.observability.conftest import BOUNDS
from tests.support.http_server import GUARD_S, POLL_S, until_status


async def _passes() -> None:
    return None


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


class _StallWitness:
    """From a thread of its own: asks /healthz until it says 503, then /readyz once."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.health: httpx.Response | None = None
        self.ready: httpx.Response | None = None
        self.done = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + GUARD_S
        try:
            with httpx.Client(timeout=10) as http:
                while time.monotonic() < deadline:
                    self.health = http.get(f"{self.url}/healthz")
                    if self.health.status_code == 503:
                        self.ready = http.get(f"{self.url}/readyz")
                        return
                    time.sleep(POLL_S)  # in the witness's thread: the loop is blocked anyway
        finally:
            self.done.set()


def _block_the_loop_until(done: threading.Event) -> None:
    """The stall under test: a blocking wait on the event loop's own thread."""
    done.wait(GUARD_S)


async def test_healthz_fails_while_the_loop_is_stalled_and_passes_after(
    registry: CollectorRegistry, client: httpx.AsyncClient
) -> None:
    # Given a server watching this event loop, which counts as stalled 0.3 s late
    limits = LivenessLimits(heartbeat_s=0.05, loop_stall_s=0.3)
    liveness = Liveness(limits, HubMetrics(registry, BOUNDS))
    checks = {"hub_database": _passes}
    async with serving(
        registry, checks, host="127.0.0.1", port=0, liveness=liveness, readiness_timeout_s=0.2
    ) as server:
        # When the loop blocks until a thread has seen /healthz fail (and asked /readyz)
        witness = _StallWitness(server.url)
        thread = threading.Thread(target=witness.run)
        thread.start()
        _block_the_loop_until(witness.done)
        thread.join()
        # And then runs again
        after = await until_status(client, f"{server.url}/healthz", 200)
        lag = await client.get(f"{server.url}/metrics")

    # Then /healthz answered 503 during the stall, naming the event loop and for how long
    assert witness.health is not None and witness.health.status_code == 503, witness.health
    body = witness.health.json()
    assert (body["alive"], body["failing"]) == (False, ["event_loop"])
    assert body["checks"]["event_loop"].startswith("event loop stalled for ")
    assert body["checks"]["event_loop"].endswith(" s (limit 0.3 s)")
    # And /readyz failed too: its checks run on the stalled loop
    assert witness.ready is not None and witness.ready.status_code == 503
    assert witness.ready.json()["checks"] == {"hub_database": "timeout"}
    # And once the loop ran again it was alive, and the stall shows in the loop's lag
    assert after.json()["checks"]["event_loop"] == "ok"
    assert _late_beats(lag.text, above="0.25") >= 1


def _late_beats(metrics_text: str, *, above: str) -> float:
    """Heartbeats later than ``above`` seconds, from the lag histogram's exposition."""
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in metrics_text.splitlines()
        if line.startswith("hub_event_loop_lag_seconds_")
    }
    count = values["hub_event_loop_lag_seconds_count"]
    return count - values[f'hub_event_loop_lag_seconds_bucket{{le="{above}"}}']


async def test_a_lane_busy_past_its_limit_fails_healthz_until_it_is_idle(
    registry: CollectorRegistry, client: httpx.AsyncClient
) -> None:
    # Given two lanes, one waiting for work and one that starts a delivery
    liveness = Liveness(LivenessLimits(lane_busy_s=0.2))
    async with serving(registry, {}, host="127.0.0.1", port=0, liveness=liveness) as server:
        liveness.idle("office-2")
        liveness.busy("office-1")
        # When the delivery runs past the lane's limit
        stuck = await until_status(client, f"{server.url}/healthz", 503)
        # And then ends
        liveness.idle("office-1")
        free = await client.get(f"{server.url}/healthz")

    # Then /healthz failed naming that lane and how long it had been busy
    body = stuck.json()
    assert body["failing"] == ["lane:office-1"]
    assert body["checks"]["lane:office-1"].startswith("busy on one delivery for ")
    assert body["checks"]["lanes"] == "1 of 2 not making progress"
    # And the idle lane cleared it
    assert free.status_code == 200, free.text


async def test_a_lane_task_that_ends_while_the_writer_runs_fails_healthz(
    registry: CollectorRegistry, client: httpx.AsyncClient
) -> None:
    # Given two lanes' tasks, watched while the writer is not stopping
    liveness = Liveness(LivenessLimits())
    stopping = asyncio.Event()
    release = asyncio.Event()
    async with serving(registry, {}, host="127.0.0.1", port=0, liveness=liveness) as server:
        gone = asyncio.create_task(_passes())
        running = asyncio.create_task(release.wait())
        liveness.watch("office-1", gone, stopping)
        liveness.watch("office-2", running, stopping)
        # When one ends
        ended = await until_status(client, f"{server.url}/healthz", 503)
        # And the other ends once the writer is stopping
        stopping.set()
        release.set()
        await running
        stopped = await client.get(f"{server.url}/healthz")

    # Then only the lane that ended on its own is reported
    assert ended.json()["failing"] == ["lane:office-1"]
    assert ended.json()["checks"]["lane:office-1"] == "ended while the writer runs"
    assert stopped.json()["failing"] == ["lane:office-1"]


def test_what_a_lane_calls_never_raises_and_a_failure_is_counted(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    # Given liveness whose clock fails
    def broken_clock() -> float:
        raise OSError("no clock")

    liveness = Liveness(LivenessLimits(), HubMetrics(registry, BOUNDS), clock=broken_clock)
    # When a lane reports its progress, Then nothing is raised into the lane
    liveness.busy("office-1")
    liveness.idle("office-1")
    liveness.ended("office-1")
    # And the failure (only busy reads the clock) is logged and counted
    failures = registry.get_sample_value("hub_wrapper_errors_total", {"wrapper": "liveness"})
    assert failures == 1
    assert "liveness: busy could not be recorded" in caplog.text


def test_the_lane_limit_follows_the_attempt_timeout_unless_set() -> None:
    # Given the writer's attempt timeout, and no lane limit of its own
    writer = WriterSettings(attempt_timeout_s=90.0)
    derived = LivenessLimits.of(HealthSettings(), writer)
    # Then a lane may take a reconciliation and an attempt, plus a margin; a setting wins
    assert derived.lane_busy_s == 2 * 90.0 + LANE_BUSY_MARGIN_S
    assert LivenessLimits.of(HealthSettings(lane_busy_limit_s=30.0), writer).lane_busy_s == 30.0
