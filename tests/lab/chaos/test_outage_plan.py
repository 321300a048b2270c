"""The outage run's plan, pure: the default run's outages last at least 25 consumer timeouts and
the whole run stays well under 20 minutes; each kind of disruption has offices of its own; the
writer gets the node's timeout and clocks at its scale."""

from __future__ import annotations

import pytest

from hub.settings import HubSettings
from lab.chaos.outage.config import OutageConfig
from lab.chaos.outage.timeline import OUTAGES, Disruption, Timeline
from lab.chaos.world import World

SETUP_AND_ACCOUNTING_S = 120.0  # a generous bound of the run's work outside publish and drain


def _drawn(config: OutageConfig) -> Timeline:
    world = World(run_id="0badf00d", offices=config.offices, vendors=config.vendors,
                  databases=config.databases)
    return Timeline.draw(world, config)


def test_the_default_run_holds_each_outage_25_timeouts_in_well_under_20_minutes() -> None:
    # Given the default outage run
    config = OutageConfig(settings=HubSettings())
    # When its timeline is drawn
    timeline = _drawn(config)
    # Then every outage lasts at least 25 consumer timeouts
    lengths = [w.length_s / config.consumer_timeout_s for _, w in timeline.disrupted.values()]
    assert min(lengths) >= 25
    # And even a drain that times out leaves the run well under 20 minutes
    assert timeline.publish_s + config.drain_timeout_s + SETUP_AND_ACCOUNTING_S < 15 * 60


def test_each_disruption_has_offices_of_its_own_and_steady_offices_remain() -> None:
    # Given a run with three offices per kind of outage and four steady ones
    config = OutageConfig(settings=HubSettings(), offices_per_kind=3, steady_offices=4)
    # When its timeline is drawn
    timeline = _drawn(config)
    kinds = [kind for kind, _ in timeline.disrupted.values()]
    # Then each outage kind has three offices, one office is paused, and four are left alone
    assert [kinds.count(kind) for kind in OUTAGES] == [3, 3, 3]
    assert kinds.count(Disruption.OFFICE_PAUSED) == 1
    assert len(timeline.steady) == 4
    assert not set(timeline.steady) & set(timeline.disrupted)
    # And one vendor is paused while another loses its outcome queue
    assert (timeline.paused_vendor, timeline.queue_vendor) == ("vendor-01", "vendor-02")


def test_everything_comes_back_before_the_vendors_stop_publishing() -> None:
    # Given the default run
    config = OutageConfig(settings=HubSettings())
    # When its timeline is drawn
    timeline = _drawn(config)
    span = timeline.outage_span()
    # Then the outages begin after the baseline and all end before the tail
    assert span.start_s == config.baseline_s
    assert span.end_s == timeline.publish_s - config.tail_s
    assert timeline.queue_gone.end_s == span.end_s


def test_the_writer_gets_the_nodes_timeout_and_clocks_at_its_scale() -> None:
    # Given a node whose consumer_timeout is 4 s
    config = OutageConfig(settings=HubSettings(), consumer_timeout_s=4.0)
    # When the writer's settings are made
    env = config.writer_env()
    # Then it knows the node's timeout, and its backoffs are capped within it
    assert env["HUB_BROKER_CONSUMER_TIMEOUT_S"] == "4"
    caps = ("HUB_WRITER__BACKOFF_CAP_S", "HUB_WRITER__AUTH_PAUSE_CAP_S",
            "HUB_WRITER__INFRA_BACKOFF_CAP_S")
    assert all(float(env[name]) < config.consumer_timeout_s for name in caps)
    # And the common world's settings carry the short attempt timeout, no kills and no faults
    common = config.chaos_config()
    assert common.attempt_timeout_s == 1.5
    assert (common.kills, common.broker_restarts, common.rate_500) == (0, 0, 0.0)


def test_an_attempt_must_end_well_inside_the_consumer_timeout() -> None:
    # Given an attempt timeout as long as the node's consumer timeout
    # When the run is configured
    # Then it is refused
    with pytest.raises(ValueError, match="well inside"):
        OutageConfig(settings=HubSettings(), consumer_timeout_s=4.0, attempt_timeout_s=4.0)
