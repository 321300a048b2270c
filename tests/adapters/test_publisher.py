"""The publisher library against the real broker, as a real vendor user."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from datetime import UTC, datetime

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustChannel

from adapters.publisher import (
    NotConfirmedReason,
    PublisherConnectError,
    PublishNotConfirmed,
    VendorPublisher,
)
from contracts import (
    CHANGE_TYPE,
    ChangeDoor,
    ChangeEvent,
    OdRow,
    OutcomeEvent,
    OutcomeStatus,
    change_event_id,
    parse_intent,
)
from contracts.amqp import CONTENT_TYPE, PERSISTENT
from contracts.od_tables import WatchedTable
from hub import names
from hub.broker_admin import ManagementApi
from tests.adapters.conftest import VendorAccount, take, take_until_seen, unique
from tests.adapters.intents import EVERY_CONTRACT, PATIENT_NAME, MakeIntent, new_patient
from tests.adapters.proxy import tcp_proxy


@pytest.mark.parametrize("make", EVERY_CONTRACT)
async def test_each_contract_reaches_the_office_queue_as_the_vendor(
    vendor: VendorAccount, hub_channel: AbstractRobustChannel, make: MakeIntent
) -> None:
    # Given an intent for the vendor's office
    intent = make(vendor.office, unique("key"))

    # When the vendor publishes it
    async with VendorPublisher(vendor.url(), vendor.name) as publisher:
        receipt = await publisher.publish(intent)

    # Then the broker confirmed it, and the office queue holds it with the documented properties
    assert (receipt.routing_key, receipt.idempotency_key) == (
        f"{vendor.office}.{intent.contract}",
        intent.idempotency_key,
    )
    (message,) = await take(hub_channel, names.office_queue(vendor.office), 1)
    assert message.routing_key == f"{vendor.office}.{intent.contract}"
    assert (message.content_type, message.delivery_mode) == (CONTENT_TYPE, PERSISTENT)
    assert (message.user_id, message.message_id) == (vendor.name, intent.idempotency_key)
    assert message.correlation_id == intent.correlation_id
    # And its body is the intent, valid for the hub
    assert parse_intent(message.body) == intent


async def test_a_refused_publish_raises_and_the_publisher_stays_usable(
    vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given a publisher, and an office the vendor has no agreement with
    stranger = unique("office")
    async with VendorPublisher(vendor.url(), vendor.name) as publisher:
        # When it publishes for that office, Then the broker's refusal is raised, naming the keys
        with pytest.raises(PublishNotConfirmed) as refused:
            await publisher.publish(new_patient(stranger, "k-refused"))
        # And the next intent for its own office is confirmed on the reopened channel
        await publisher.publish(new_patient(vendor.office, "k-after"))

    assert refused.value.reason is NotConfirmedReason.REFUSED
    assert "ACCESS_REFUSED" in str(refused.value) and "k-refused" in str(refused.value)
    assert PATIENT_NAME not in str(refused.value)
    (message,) = await take(hub_channel, names.office_queue(vendor.office), 1)
    assert message.message_id == "k-after"


async def test_a_refusal_fails_only_its_own_intent_among_concurrent_ones(
    vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given intents for the vendor's office published together with one for a stranger office,
    # whose refusal closes the channel under the others
    keys = [f"k-{i}" for i in range(8)]
    async with VendorPublisher(vendor.url(), vendor.name) as publisher:
        mine = [publisher.publish(new_patient(vendor.office, key)) for key in keys]
        refused = publisher.publish(new_patient(unique("office"), "k-stranger"))

        # When they are all sent at once
        results = await asyncio.gather(*mine[:4], refused, *mine[4:], return_exceptions=True)

    # Then only the stranger's intent is refused, and every other one reaches the office queue
    # (some maybe twice: sent again after the channel closed, before their confirm arrived)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert [
        (f.reason, f.idempotency_key) for f in failures if isinstance(f, PublishNotConfirmed)
    ] == [(NotConfirmedReason.REFUSED, "k-stranger")]
    assert len(failures) == 1
    queued = await take_until_seen(hub_channel, names.office_queue(vendor.office), keys)
    assert {m.message_id for m in queued} == set(keys)


async def test_an_unroutable_publish_is_returned(vendor: VendorAccount) -> None:
    # Given a publisher and an office in the vendor's agreement whose queue does not exist
    async with VendorPublisher(vendor.url(), vendor.name) as publisher:
        # When it publishes for that office, Then the broker returns it: not confirmed
        with pytest.raises(PublishNotConfirmed) as returned:
            await publisher.publish(new_patient(vendor.unserved_office, "k-returned"))

    assert returned.value.reason is NotConfirmedReason.RETURNED
    assert returned.value.routing_key == f"{vendor.unserved_office}.patient.create"
    assert PATIENT_NAME not in str(returned.value)


async def test_a_publish_the_broker_cannot_store_is_nacked(
    vendor: VendorAccount, hub_channel: AbstractRobustChannel, management: ManagementApi
) -> None:
    # Given the only queue bound for an office refuses every message (full at length 0)
    full = unique("full")
    arguments = {"x-max-length": 0, "x-overflow": "reject-publish"}
    queue = await hub_channel.declare_queue(full, arguments=arguments, robust=False)
    await queue.bind(names.INTENTS_EXCHANGE, f"{vendor.unserved_office}.#", robust=False)
    try:
        # When the vendor publishes for that office, Then the broker nacks it
        async with VendorPublisher(vendor.url(), vendor.name) as publisher:
            with pytest.raises(PublishNotConfirmed) as nacked:
                await publisher.publish(new_patient(vendor.unserved_office, "k-nacked"))
    finally:
        await management.delete_queue(full)

    assert nacked.value.reason is NotConfirmedReason.NACKED


async def test_a_publish_without_a_confirm_in_time_times_out(vendor: VendorAccount) -> None:
    # Given a vendor connected through a proxy that holds back everything the broker says
    async with tcp_proxy(vendor.broker_host, vendor.broker_port) as (proxy, port):
        publisher = VendorPublisher(vendor.url(port), vendor.name, confirm_timeout_s=0.5)
        async with publisher:
            proxy.hold_replies()
            # When it publishes, Then the publish is not confirmed: it timed out
            with pytest.raises(PublishNotConfirmed) as timed_out:
                await publisher.publish(new_patient(vendor.office, "k-timeout"))
            proxy.cut()

    assert timed_out.value.reason is NotConfirmedReason.TIMEOUT
    assert "k-timeout" in str(timed_out.value)


async def test_unconfirmed_intents_are_sent_again_after_a_reconnect(
    vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    keys = [f"k-{i}" for i in range(5)]
    office_queue = names.office_queue(vendor.office)
    async with tcp_proxy(vendor.broker_host, vendor.broker_port) as (proxy, port):
        publisher = VendorPublisher(vendor.url(port), vendor.name, reconnect_interval_s=0.1)
        async with publisher:
            # Given intents the broker stored but whose confirms never reached the publisher
            proxy.hold_replies()
            publishing = [
                asyncio.create_task(publisher.publish(new_patient(vendor.office, key)))
                for key in keys
            ]
            stored = await take(hub_channel, office_queue, len(keys))

            # When the connection is cut and the publisher reconnects
            proxy.cut()
            receipts = await asyncio.gather(*publishing)

    # Then every publish was confirmed after another try, and every intent arrived again
    assert all(receipt.attempts >= 2 for receipt in receipts)
    assert sorted(m.message_id or "" for m in stored) == keys
    again = await take_until_seen(hub_channel, office_queue, keys)
    assert {m.message_id for m in again} == set(keys)
    assert proxy.connections == 2


def outcome(vendor: VendorAccount, key: str) -> OutcomeEvent:
    return OutcomeEvent(
        vendor=vendor.name,
        idempotency_key=key,
        office_id=vendor.office,
        contract="patient.create",
        version=1,
        status=OutcomeStatus.APPLIED,
        reason=None,
        od=[OdRow(table="patient", primary_key=42)],
        decided_at=datetime.now(UTC),
    )


async def publish_outcomes(channel: AbstractRobustChannel, *events: OutcomeEvent) -> None:
    exchange = await channel.get_exchange(names.OUTCOMES_EXCHANGE)
    for event in events:
        body = aio_pika.Message(event.to_json().encode(), content_type=CONTENT_TYPE)
        await exchange.publish(body, event.routing_key(), mandatory=True)


async def test_outcomes_yield_the_vendors_events(
    vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given an outcome event the hub published for the vendor
    event = outcome(vendor, "k-1")
    await publish_outcomes(hub_channel, event)

    # When the vendor iterates its outcomes
    async with (
        VendorPublisher(vendor.url(), vendor.name) as publisher,
        asyncio.timeout(10),  # a guard, not an assertion
        aclosing(publisher.outcomes()) as events,
    ):
        received = await anext(events)

    # Then it receives that event
    assert received == event


async def test_an_outcome_is_acked_only_when_the_loop_body_returns(
    vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given two outcome events for the vendor
    await publish_outcomes(hub_channel, outcome(vendor, "k-1"), outcome(vendor, "k-2"))

    async with VendorPublisher(vendor.url(), vendor.name) as publisher, asyncio.timeout(10):
        # When a first loop's body raises on the first event
        with pytest.raises(ZeroDivisionError):
            async with aclosing(publisher.outcomes()) as events:
                async for _ in events:
                    raise ZeroDivisionError
        # And a second loop's body returns for one event and the loop stops at the next
        handled: list[str] = []
        async with aclosing(publisher.outcomes()) as events:
            async for event in events:
                handled.append(event.idempotency_key)
                if len(set(handled)) == 2:
                    break
        # Then a third loop gets only the event the second stopped at
        async with aclosing(publisher.outcomes()) as events:
            left = await anext(events)

    assert sorted(set(handled)) == ["k-1", "k-2"]
    assert left.idempotency_key == handled[-1]


async def test_a_wrong_password_fails_fast_without_showing_it(vendor: VendorAccount) -> None:
    # Given the vendor's login with a wrong password
    wrong = VendorAccount(**{**vendor.__dict__, "password": "not-the-password-8472"})

    # When the publisher opens, Then it fails with an error naming the vendor, not the password
    with pytest.raises(PublisherConnectError) as failed:
        async with VendorPublisher(wrong.url(), vendor.name):
            pass

    assert vendor.name in str(failed.value)
    assert "not-the-password-8472" not in str(failed.value)


def change(vendor: VendorAccount) -> ChangeEvent:
    at = datetime.now(UTC)
    return ChangeEvent(
        event_id=change_event_id(vendor.office, "appointment", 7, at), office_id=vendor.office,
        table=WatchedTable.APPOINTMENT, primary_key=7, door=ChangeDoor.OPEN_DENTAL_USER,
        changed_at=at, columns=["AptDateTime"], values={"AptDateTime": "2030-04-09 10:30:00"},
    )


async def test_events_yield_change_events_beside_outcomes_and_outcomes_leave_them_out(
    vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given a change event (typed change.v1, as the hub publishes it) and then two outcomes
    exchange = await hub_channel.get_exchange(names.OUTCOMES_EXCHANGE)
    changed = change(vendor)
    body = aio_pika.Message(changed.to_json().encode(), content_type=CONTENT_TYPE, type=CHANGE_TYPE)
    await exchange.publish(body, changed.routing_key(vendor.name), mandatory=True)
    await publish_outcomes(hub_channel, outcome(vendor, "k-1"))

    async with VendorPublisher(vendor.url(), vendor.name) as publisher, asyncio.timeout(10):
        # When a vendor that reads iterates all its events
        async with aclosing(publisher.events()) as events:
            first, second = await anext(events), await anext(events)
        # Then it gets the change event, typed, and the outcome
        assert first == changed
        assert isinstance(second, OutcomeEvent) and second.idempotency_key == "k-1"
        # And a vendor reading outcomes only (k-1 again: the loop above left it unacked) is
        # never handed a change event
        await exchange.publish(body, changed.routing_key(vendor.name), mandatory=True)
        await publish_outcomes(hub_channel, outcome(vendor, "k-2"))
        seen: list[object] = []
        async with aclosing(publisher.outcomes()) as outcomes:
            async for event in outcomes:
                seen.append(event)
                if event.idempotency_key == "k-2":
                    break
        assert all(isinstance(event, OutcomeEvent) for event in seen)
        assert len(seen) == 2
