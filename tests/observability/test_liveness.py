"""Liveness: what a lane calls never raises, and its limits follow the writer's settings."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from hub.observability import HubMetrics, Liveness, LivenessLimits
from hub.observability.liveness import LANE_BUSY_MARGIN_S
from hub.settings import HealthSettings, WriterSettings
from tests.observability.conftest import BOUNDS


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
