"""The broker's timers and counters the writer relies on: one attempt must fit in the time a
delivery may stay unacked, and the office queues' delivery limit is read from the broker."""

from __future__ import annotations

import logging

import pytest

from hub.broker_admin import ManagementApi
from hub.broker_limits import (
    BrokerLimitsError,
    check_settings,
    hold_limit_s,
    log_broker_limits,
    office_queue_limits,
)
from hub.settings import HubSettings, WriterSettings
from tests.writer.conftest import MakeWorld


def _settings(consumer_timeout_s: float, attempt_timeout_s: float) -> HubSettings:
    return HubSettings(
        broker_consumer_timeout_s=consumer_timeout_s,
        writer=WriterSettings(attempt_timeout_s=attempt_timeout_s),
    )


def test_an_attempt_longer_than_half_the_broker_timeout_is_refused() -> None:
    # Given a broker timeout of 60 s, When an attempt may take 30 s or more
    with pytest.raises(BrokerLimitsError) as refused:
        check_settings(_settings(60, 30))
    # Then the writer refuses to start, naming both settings
    assert "HUB_WRITER__ATTEMPT_TIMEOUT_S (30 s)" in str(refused.value)
    assert "HUB_BROKER_CONSUMER_TIMEOUT_S 60 s" in str(refused.value)
    # And an attempt that fits is fine; the default settings fit the broker's default
    check_settings(_settings(60, 29))
    check_settings(HubSettings())
    assert hold_limit_s(HubSettings()) == 900


async def test_the_office_queues_delivery_limit_is_read_and_a_difference_logged(
    make_world: MakeWorld, management: ManagementApi, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an office queue declared with the hub's delivery limit
    world = await make_world()
    # When the writer reads it back
    (limit,) = await office_queue_limits(management, [world.office, "no-such-office"])
    # Then it has the queue's argument, no policy, and that is the limit in force
    assert (limit.office, limit.argument, limit.policy, limit.effective) == (
        world.office, 20, None, 20
    )
    # And a writer expecting another limit says so
    expecting = world.settings.model_copy(update={"office_delivery_limit": 5})
    with caplog.at_level(logging.INFO, logger="hub.broker_limits"):
        await log_broker_limits(expecting, management, [world.office])
    assert any("has a delivery limit of 20" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)
    assert any("consumer_timeout is taken as 1800 s" in r.getMessage() for r in caplog.records)
