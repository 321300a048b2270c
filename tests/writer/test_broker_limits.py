"""The broker's timers and counters the writer relies on: one attempt must fit in the time a
delivery may stay unacked, and the office queues' delivery limit is read from the broker."""

from __future__ import annotations

import logging

import httpx
import pytest

from contracts.limits import DEFAULT_MAX_BYTES, HUB_MAX_BYTES, max_bytes
from hub import names
from hub.broker_admin import ManagementApi
from hub.broker_limits import (
    BrokerLimitsError,
    check_settings,
    hold_limit_s,
    in_hand_at_most,
    lane_prefetch,
    lane_prefetches,
    log_broker_limits,
    log_in_hand,
    office_ceilings,
    office_queue_limits,
)
from hub.registry import V1_CONTRACTS
from hub.settings import HubSettings, WriterSettings
from tests.writer.conftest import MakeWorld
from tests.writer.support import FAST_WRITER, FULL_KEY, eventually, running_worker


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


@pytest.mark.parametrize(
    ("prefetch", "budget_messages", "offices", "expected"),
    [(10, 1000, 10, 10), (10, 100, 20, 5), (10, 30, 20, 1), (10, 0, 20, 1), (3, 1000, 1, 3)],
    ids=["fits", "lowered", "one-at-least", "budget-below-one-each", "never-raised"],
)
def test_each_lane_s_prefetch_keeps_the_writer_within_its_byte_budget(
    prefetch: int, budget_messages: int, offices: int, expected: int
) -> None:
    # Given a byte budget worth some of the largest messages the broker takes
    settings = WriterSettings(
        prefetch=prefetch, in_hand_bytes=max(1, budget_messages * HUB_MAX_BYTES)
    )
    # When the lanes' prefetch is set for that many offices
    each = lane_prefetch(settings, offices, HUB_MAX_BYTES)
    # Then it is the configured one lowered to fit (never below 1, never raised)
    assert each == expected
    assert each == 1 or offices * each * HUB_MAX_BYTES <= settings.in_hand_bytes


WITHOUT_DOCUMENTS = tuple(sorted(V1_CONTRACTS - {"document.upload"}))


@pytest.mark.parametrize(
    ("contracts", "expected"),
    [(tuple(sorted(V1_CONTRACTS)), 2), (WITHOUT_DOCUMENTS, 10)],
    ids=["documents-agreed", "small-contracts-only"],
)
async def test_the_lanes_consume_with_the_prefetch_the_budget_allows(
    make_world: MakeWorld, management: ManagementApi, contracts: tuple[str, ...], expected: int
) -> None:
    # Given a writer whose byte budget holds two of the largest messages, and one office whose
    # agreements name document uploads, or only contracts of small messages
    writer = FAST_WRITER.model_copy(update={"prefetch": 10, "in_hand_bytes": 2 * HUB_MAX_BYTES})
    world = await make_world(writer=writer, contracts=contracts)
    async with running_worker(world), httpx.AsyncClient(
        base_url=world.settings.management_url,
        auth=(world.settings.management_user,
              world.settings.management_password.get_secret_value()),
    ) as api:
        # When its lane consumes the office queue
        async def prefetch_counts() -> list[int]:
            consumers = (await api.get("/api/consumers")).json()
            return [each["prefetch_count"] for each in consumers
                    if each["queue"]["name"] == names.office_queue(world.office)]

        async def consuming() -> bool:
            return bool(await prefetch_counts())

        await eventually(consuming, "the lane's consumer")
        # Then the broker hands it at most two documents at a time, or its full prefetch of
        # small messages: an office without uploads does not pay for the others' documents
        assert await prefetch_counts() == [expected]


async def test_an_office_s_ceiling_is_its_largest_agreed_contract_s(make_world: MakeWorld) -> None:
    # Given offices whose vendors agreed document uploads, commlogs only, or small contracts
    documents = await make_world(contracts=("patient.create", "document.upload"))
    commlogs = await make_world(contracts=("commlog.create",))
    small = await make_world(contracts=("patient.create",))
    # When each office's largest message is read from its agreements
    ceilings = [office_ceilings(world.registry)[world.office]
                for world in (documents, commlogs, small)]
    # Then it is the largest of its contracts' ceilings
    assert ceilings == [max_bytes("document.upload"), max_bytes("commlog.create"),
                        DEFAULT_MAX_BYTES]
    # And a lane's prefetch fits its office's share of the budget at its own ceiling
    settings = WriterSettings(prefetch=10, in_hand_bytes=3 * HUB_MAX_BYTES)
    assert lane_prefetches(settings, documents.registry) == {documents.office: 3}
    assert lane_prefetches(settings, small.registry) == {small.office: 10}


async def test_the_writer_warns_when_its_document_lanes_hold_more_than_the_budget(
    make_world: MakeWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # Given two offices agreeing document uploads, and a budget of one document and a half
    world = await make_world(keys=(FULL_KEY, FULL_KEY), contracts=("document.upload",))
    settings = WriterSettings(prefetch=10, in_hand_bytes=HUB_MAX_BYTES * 3 // 2)
    # When the lanes' most is reckoned, Then it is one document each, above the budget
    assert in_hand_at_most(settings, world.registry) == 2 * HUB_MAX_BYTES
    with caplog.at_level(logging.INFO, logger="hub.broker_limits"):
        log_in_hand(settings, world.registry)
        log_in_hand(settings.model_copy(update={"in_hand_bytes": 2 * HUB_MAX_BYTES}),
                    world.registry)
    # And the writer says so, naming the setting; within the budget it only says what it holds
    assert [record.levelname for record in caplog.records] == ["WARNING", "INFO"]
    assert "HUB_WRITER__IN_HAND_BYTES" in caplog.records[0].getMessage()
