"""Holds: an office's order survives every way a lane holds a delivery (a hold in place, an
unexpected failure, a long hold that parks it), and a delivery is never kept unacked longer
than half the broker's consumer_timeout. The broker's timeout is shortened in the settings so
that "long" is a second here, not hours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeReason, OutcomeStatus
from hub import names
from hub.custody.mysql_custody import MySqlCustody
from hub.errors import TransientError
from hub.ledger import Finish, MySqlLedger
from hub.ledger.mysql_session import ignore_query
from hub.status import gather
from hub.writer.application import Applier, OdRequest
from hub.writer.decisions import Final, Hold
from hub.writer.intake import Claimed
from hub.writer.metrics import WriterMetrics
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    DISABLED_KEY,
    FULL_KEY,
    World,
    dead_letter_tap,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    rekeyed,
    running_worker,
    unique,
    vendor_client,
)

# A delivery may stay unacked for half of this: a second of holding in place, then parked.
SHORT_BROKER_TIMEOUT_S = 2.0


def _failing_first(monkeypatch: pytest.MonkeyPatch, failures: dict[str, int]) -> None:
    """Application raises (a bug) for the given keys, as many times as given."""
    real_apply = Applier.apply

    async def apply(
        self: Applier, claimed: Claimed, intent: Any, request: OdRequest
    ) -> Final | Hold:
        left = failures.get(intent.idempotency_key, 0)
        if left:
            failures[intent.idempotency_key] = left - 1
            raise RuntimeError("a bug in the middle of the pipeline")
        return await real_apply(self, claimed, intent, request)

    monkeypatch.setattr(Applier, "apply", apply)


async def _publish_all(world: World, keys: list[str]) -> str:
    async with vendor_client(world.settings, world.vendor) as vendor:
        for key in keys:
            await vendor.publish(patient_create(world.office, key, last=letters()),
                                 office=world.office)
        return vendor.name


async def test_an_unexpected_failure_mid_pipeline_keeps_the_office_order(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an office whose lane prefetches ten, and a bug that fails the first intent twice
    # after its claim (its attempt begun)
    world = await make_world()
    keys = [unique("order") for _ in range(5)]
    _failing_first(monkeypatch, {keys[0]: 2})
    async with running_worker(world):
        # When five intents are published at once
        vendor = await _publish_all(world, keys)
        events = await drain_outcomes(hub_channel, vendor, len(keys))
    # Then the failing one was run again in place, before any of those prefetched behind it
    assert [(event.idempotency_key, event.status) for event in events] == [
        (key, OutcomeStatus.APPLIED) for key in keys
    ]


async def test_a_delivery_the_writer_keeps_failing_on_is_dead_lettered_and_the_office_goes_on(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a bug that fails one intent every time
    world = await make_world()
    tap = await dead_letter_tap(hub_channel, world.office)
    keys = [unique("poison"), unique("after"), unique("after")]
    _failing_first(monkeypatch, {keys[0]: 1_000})
    async with running_worker(world):
        # When it is published before two others
        vendor = await _publish_all(world, keys)
        events = await drain_outcomes(hub_channel, vendor, 2)
        letter = await tap.get(timeout=30)
    # Then after crash_limit runs it is dead-lettered as the hub's own failure
    assert letter.headers is not None
    assert letter.headers[names.HEADER_REASON] == OutcomeReason.WRITER_FAILED.value
    assert letter.headers[names.HEADER_VENDOR] == vendor
    await letter.ack()
    # And the office's later intents are applied after it, in order
    assert [(e.idempotency_key, e.status) for e in events] == [
        (key, OutcomeStatus.APPLIED) for key in keys[1:]
    ]


async def test_a_metric_that_raises_does_not_end_the_lane(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given reporting a lane's state raises every time
    def broken(self: WriterMetrics, office: str) -> None:
        raise RuntimeError("a broken metric")

    monkeypatch.setattr(WriterMetrics, "lane_running", broken)
    world = await make_world()
    keys = [unique("metric") for _ in range(3)]
    async with running_worker(world):
        # When intents are published, Then every one of them is applied: the lane goes on
        vendor = await _publish_all(world, keys)
        events = await drain_outcomes(hub_channel, vendor, len(keys))
    assert [event.idempotency_key for event in events] == keys


async def test_a_long_hold_parks_the_office_and_its_new_messages_wait_ready_in_its_queue(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    tmp_path: Path,
) -> None:
    # Given an office whose key Open Dental refuses (401), and a broker timeout short enough
    # that holding its first intent in place soon would outlast half of it
    world = await make_world(keys=(DISABLED_KEY,))
    world.settings = world.settings.model_copy(
        update={"broker_consumer_timeout_s": SHORT_BROKER_TIMEOUT_S}
    )
    tap = await dead_letter_tap(hub_channel, world.office)
    first, later = [unique("held") for _ in range(3)], unique("later")
    async with running_worker(world):
        # When three intents arrive
        vendor = await _publish_all(world, first)

        # Then the lane stands down: the office's hold is taken, the three are parked (acked),
        # and the lane goes on trying the first from there
        async def parked() -> bool:
            line = (await _line(world))
            return line.parked == 3 and line.hold is not None and line.in_flight == 0

        await eventually(parked, "the office held, its three intents parked")
        line = await _line(world)
        assert line.hold is not None and line.hold.cause == "auth"

        async def tried_again() -> bool:
            told = await ledger.story(vendor, first[0])
            return told is not None and told.intent.attempts >= 3

        await eventually(tried_again, "the parked intent tried again")
        # And an intent published now waits ready in the queue, not taken by the lane
        await _publish_all(world, [later])

        async def queued() -> bool:
            return (await _line(world)).queue_depth == 1

        await eventually(queued, "the new intent ready in the office queue")
        assert [await ledger.story(vendor, key) for key in (first[1], first[2], later)] == [
            None, None, None
        ]
    # And nothing was dead-lettered
    assert await tap.get(fail=False) is None

    # When the office's key works again (another writer: the first released its hold when it
    # stopped, and what it parked stays parked)
    fixed = rekeyed(world, tmp_path, FULL_KEY)
    fixed.settings = fixed.settings.model_copy(update={"broker_consumer_timeout_s": 2.0})
    async with running_worker(fixed):
        events = await drain_outcomes(hub_channel, vendor, 4)
    # Then the parked intents are applied first, in order, then the one that waited in the queue
    assert [(e.idempotency_key, e.status) for e in events] == [
        (key, OutcomeStatus.APPLIED) for key in [*first, later]
    ]
    custody = await MySqlCustody.open(world.settings.ledger_db, on_query=ignore_query)
    try:
        assert await custody.counts() == {}
        assert await custody.hold(world.office) is None
    finally:
        await custody.close()


async def _line(world: World) -> Any:
    (line,) = [ln for ln in (await gather(world.settings)).lanes if ln.office == world.office]
    return line


async def test_a_201_whose_finish_failed_is_recorded_and_its_own_attempt_is_not_waited_out(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the ledger fails the finish of the first applied intent once (its commit lost)
    world = await make_world()
    world.settings = world.settings.model_copy(
        update={"writer": world.settings.writer.model_copy(update={"attempt_timeout_s": 60.0})}
    )
    real_finish = MySqlLedger.finish
    failed: list[int] = []

    async def finish(self: MySqlLedger, intent_id: int, done: Finish, **kwargs: Any) -> bool:
        if not failed:
            failed.append(intent_id)
            raise TransientError("ledger database unreachable while finishing an intent")
        return await real_finish(self, intent_id, done, **kwargs)

    monkeypatch.setattr(MySqlLedger, "finish", finish)
    key = unique("finish")
    async with running_worker(world):
        # When the intent is applied (Open Dental answers 201) and its finish fails
        vendor = await _publish_all(world, [key])
        (event,) = await drain_outcomes(hub_channel, vendor, 1)
    # Then it is applied once, and the 201 is in the ledger with its attempt
    assert event.status is OutcomeStatus.APPLIED and failed
    story = await ledger.story(vendor, key)
    assert story is not None
    assert [(call.method, call.status) for call in story.api_calls] == [("POST", 201)]
    # And its own attempt in doubt was reconciled at once, not waited out as another writer's
    # (a 60 s attempt limit: waiting it out would have held the intent as maybe applied)
    retries = world.metrics.get_sample_value(
        "hub_retries_total",
        {"office": world.office, "contract": "patient.create", "error_class": "maybe_applied"},
    )
    assert not retries
