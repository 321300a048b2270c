"""Open Dental failing: an unreachable office pauses its lane and is probed, failures are retried
in place until exhausted, throttling is waited out, and failures that may have been applied are
reconciled before anything is sent again."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeReason, OutcomeStatus, parse_intent
from hub import names
from hub.ledger import IntentClaim, MySqlLedger
from hub.settings import WriterSettings
from odsim.faults import FaultConfig
from odsim.server import SimHandle
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FAST_WRITER,
    REMOTE_KEY,
    dead_letter_tap,
    drain,
    drain_outcomes,
    eventually,
    letters,
    patient_create,
    patients_named,
    running_worker,
    unique,
    vendor_client,
)


async def test_transient_failures_are_retried_in_place_until_open_dental_takes_it(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given an office whose eConnector is down (a transient 400 that had no effect)
    world = await make_world(writer=FAST_WRITER.model_copy(update={"max_attempts": 50}))
    simulator.set_faults(FaultConfig(econnector_down_s=600))
    key, last = unique("key"), letters()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(patient_create(world.office, key, last=last), office=world.office)

        # When it comes back after the writer has tried twice
        async def tried_twice() -> bool:
            told = await ledger.story(vendor.name, key)
            return told is not None and told.intent.attempts >= 2

        await eventually(tried_twice, "two attempts")
        simulator.set_faults(FaultConfig())
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the intent is applied once, after attempts that Open Dental refused
    assert event.status is OutcomeStatus.APPLIED
    assert len(await patients_named(world.od_database, last)) == 1
    told = await ledger.story(vendor.name, key)
    assert told is not None
    statuses = [call.status for call in told.api_calls]
    assert statuses[-1] == 201 and set(statuses[:-1]) == {400} and len(statuses) >= 3
    assert [call.attempt for call in told.api_calls] == list(range(1, len(statuses) + 1))


@pytest.mark.parametrize(
    ("fault", "writer", "statuses"),
    [
        pytest.param(FaultConfig(rate_500=1.0), FAST_WRITER, [500, 500, 500], id="attempts"),
        pytest.param(
            FaultConfig(rate_500=1.0),
            FAST_WRITER.model_copy(update={"max_retry_s": 0.3, "max_attempts": 1000}), None,
            id="time",
        ),
    ],
)
async def test_failures_that_never_end_exhaust_the_retries_and_dead_letter_it(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle, fault: FaultConfig, writer: WriterSettings,
    statuses: list[int] | None,
) -> None:
    # Given Open Dental failing every request with a 500, and a writer allowed three counted
    # attempts, or 0.3 s of retrying
    world = await make_world(writer=writer)
    simulator.set_faults(fault)
    taps = await dead_letter_tap(hub_channel, world.office)
    key, last = unique("key"), letters()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When an intent arrives
        await vendor.publish(patient_create(world.office, key, last=last), office=world.office)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
        (dead,) = await drain(taps, 1)

    # Then it is dead, and sits in the dead letters saying so, with its attempts
    assert (event.status, event.reason) == (OutcomeStatus.DEAD, OutcomeReason.RETRIES_EXHAUSTED)
    told = await ledger.story(vendor.name, key)
    assert told is not None and told.intent.status == "dead"
    assert dead.headers[names.HEADER_REASON] == "retries_exhausted"
    assert dead.headers[names.HEADER_ATTEMPTS] == told.intent.attempts
    if statuses is not None:
        assert [call.status for call in told.api_calls] == statuses
    # And no 500 left a row behind (each was reconciled as not landed before the next)
    assert await patients_named(world.od_database, last) == []


async def test_a_failure_that_may_have_been_applied_is_reconciled_not_sent_again(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger,
    simulator: SimHandle,
) -> None:
    # Given Open Dental committing each write, then closing the connection without a reply
    world = await make_world()
    simulator.set_faults(FaultConfig(rate_commit_then_drop=1.0))
    key, last = unique("key"), letters()
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When an intent meets it
        await vendor.publish(patient_create(world.office, key, last=last), office=world.office)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the row it made is found and recorded, after exactly one request
    rows = await patients_named(world.od_database, last)
    assert len(rows) == 1
    assert (event.status, event.message) == (OutcomeStatus.APPLIED, "reconciled")
    assert [(row.table, row.primary_key) for row in event.od] == [("patient", rows[0]["PatNum"])]
    told = await ledger.story(vendor.name, key)
    assert told is not None and [call.status for call in told.api_calls] == [None]


async def test_an_intent_a_crash_left_attempting_is_reconciled_before_it_is_sent(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given an intent an earlier writer claimed and began an attempt for, then crashed
    world = await make_world(writer=FAST_WRITER.model_copy(update={"attempt_timeout_s": 0.5}))
    key, last = unique("key"), letters()
    intent = patient_create(world.office, key, last=last)
    parsed = parse_intent(json.dumps(intent))
    claimed = await ledger.claim(
        IntentClaim(
            vendor=world.vendor.name, idempotency_key=key, payload_hash=parsed.payload_hash(),
            contract="patient.create", contract_version=1, office_id=world.office,
            message_id=None, correlation_id=None, received_at=datetime.now(UTC),
        )
    )
    assert await ledger.begin_attempt(claimed.intent_id) == 1
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When the broker delivers it again
        await vendor.publish(intent, office=world.office)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then the office's database showed the crashed attempt had not landed, so it was sent,
    # once, as attempt 2
    assert event.status is OutcomeStatus.APPLIED and event.message is None
    assert len(await patients_named(world.od_database, last)) == 1
    told = await ledger.story(vendor.name, key)
    assert told is not None and told.intent.status == "applied"
    assert [(call.attempt, call.status) for call in told.api_calls] == [(2, 201)]


async def test_a_throttled_request_waits_as_open_dental_asks_and_is_sent_again(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given an office whose key Open Dental throttles, which the hub is not told to pace
    world = await make_world(keys=(REMOTE_KEY,))
    keys = [unique("key"), unique("key")]
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When two intents arrive back to back
        for key in keys:
            intent = patient_create(world.office, key, last=letters())
            await vendor.publish(intent, office=world.office)
        events = await drain_outcomes(hub_channel, vendor.name, 2)

    # Then both are applied; the second after a 429 it waited out, without using up retries
    assert [event.status for event in events] == [OutcomeStatus.APPLIED] * 2
    told = await ledger.story(vendor.name, keys[1])
    assert told is not None
    assert [call.status for call in told.api_calls] == [429, 201]
