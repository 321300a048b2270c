"""Intents the writer refuses or repeats without calling Open Dental (except od_rejected): each
with its reason in the outcome and, when refused, in the dead-letter headers."""

from __future__ import annotations

import json
from datetime import datetime

import aiormq
import pytest
from aio_pika.abc import AbstractRobustChannel, FieldValue

from contracts import OutcomeReason, OutcomeStatus
from contracts.limits import HUB_MAX_BYTES, max_bytes
from hub import names
from hub.ledger import MySqlLedger
from tests.writer.conftest import MakeWorld
from tests.writer.support import (
    FULL_KEY,
    SLOW_KEY,
    appointment_create,
    dead_letter_tap,
    drain,
    drain_outcomes,
    letters,
    od_rows,
    patient_create,
    running_worker,
    unique,
    vendor_client,
)


async def test_an_exact_duplicate_repeats_the_first_outcome_without_a_second_call(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given a patient.create the writer applied
    world = await make_world()
    key = unique("key")
    intent = patient_create(world.office, key, last=letters())
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(intent, office=world.office, message_id="m-first")
        # When the vendor sends the very same intent again, as another message
        await vendor.publish(intent, office=world.office, message_id="m-again")
        first, again = await drain_outcomes(hub_channel, vendor.name, 2)

    # Then the first outcome is repeated, marked as a duplicate and answering the second
    # message, and Open Dental was called once
    assert first.status is OutcomeStatus.APPLIED and not first.duplicate
    assert (first.message_id, again.message_id, again.duplicate) == ("m-first", "m-again", True)
    assert again.model_copy(update={"duplicate": False, "message_id": "m-first"}) == first
    told = await ledger.story(vendor.name, key)
    assert told is not None and len(told.api_calls) == 1
    assert told.intent.deliveries == 2


async def test_a_key_reused_with_another_payload_is_an_idempotency_conflict(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given an applied patient.create
    world = await make_world()
    key, first_last = unique("key"), letters()
    taps = await dead_letter_tap(hub_channel, world.office)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        first_intent = patient_create(world.office, key, last=first_last)
        await vendor.publish(first_intent, office=world.office)
        # When the vendor reuses its key for another patient
        other = patient_create(world.office, key, last=letters())
        await vendor.publish(other, office=world.office)
        first, conflict = await drain_outcomes(hub_channel, vendor.name, 2)
        (dead,) = await drain(taps, 1)

    # Then it is refused as a conflict and dead-lettered, and the first intent is untouched
    assert (conflict.status, conflict.reason) == (
        OutcomeStatus.REJECTED, OutcomeReason.IDEMPOTENCY_CONFLICT
    )
    assert dead.headers[names.HEADER_REASON] == "idempotency_conflict"
    told = await ledger.story(vendor.name, key)
    assert told is not None
    assert (told.intent.status, told.intent.od_primary_key) == ("applied", first.od[0].primary_key)


async def test_an_invalid_intent_is_rejected_with_its_field_errors_and_dead_lettered(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given an intent whose birthdate is written the US way
    world = await make_world()
    key = unique("key")
    intent = patient_create(world.office, key, last=letters())
    intent["payload"]["Birthdate"] = "01/02/1980"
    body = json.dumps(intent).encode()
    taps = await dead_letter_tap(hub_channel, world.office)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When the vendor publishes it, with headers of its own, one posing as the hub's
        headers: dict[str, FieldValue] = {"trace": "t-1", names.HEADER_INTENT_ID: 999}
        await vendor.publish(body, office=world.office, headers=headers)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
        (dead,) = await drain(taps, 1)

    # Then the outcome names the broken rule by field path, for the intent's key
    assert (event.status, event.reason, event.idempotency_key) == (
        OutcomeStatus.REJECTED, OutcomeReason.INVALID, key
    )
    assert [(error.path, error.rule) for error in event.errors] == [
        ("payload.Birthdate", "date_format")
    ]
    # And the original message sits in the dead letters with who, where, what and why
    assert dead.body == body and dead.content_type == "application/json"
    assert {name: dead.headers[name] for name in _HUB_HEADERS} == {
        names.HEADER_REASON: "invalid",
        names.HEADER_VENDOR: vendor.name,
        names.HEADER_OFFICE: world.office,
        names.HEADER_CONTRACT: "patient.create",
        names.HEADER_IDEMPOTENCY_KEY: key,
        names.HEADER_ATTEMPTS: 0,
    }
    assert datetime.fromisoformat(str(dead.headers[names.HEADER_DEAD_LETTERED_AT])).tzinfo
    assert json.loads(str(dead.headers[names.HEADER_ERRORS])) == [
        {"path": "payload.Birthdate", "rule": "date_format"}
    ]
    assert "01/02/1980" not in json.dumps({k: str(v) for k, v in dead.headers.items()})
    # And the vendor's own headers are kept, except the one posing as the hub's
    assert dead.headers["trace"] == "t-1" and names.HEADER_INTENT_ID not in dead.headers


async def test_a_body_above_its_contract_s_ceiling_is_too_large_naming_its_message_id(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given a patient.create above its contract's ceiling (below the hub's, so the broker takes
    # it), and an unreadable body, each with the vendor's own message_id
    world = await make_world()
    intent = patient_create(world.office, unique("key"), last=letters())
    intent["payload"]["Email"] = "x" * max_bytes("patient.create")
    taps = await dead_letter_tap(hub_channel, world.office)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When the vendor publishes them
        await vendor.publish(json.dumps(intent).encode(), office=world.office, message_id="m-big")
        await vendor.publish(b"\xff not json", office=world.office, message_id="m-garbled")
        events = await drain_outcomes(hub_channel, vendor.name, 2)
        dead = await drain(taps, 2)

    # Then each is rejected as invalid, by the rule its limit or its encoding broke, and names
    # the message it answers, though neither's envelope could be used
    assert [(event.message_id, event.status, event.reason) for event in events] == [
        ("m-big", OutcomeStatus.REJECTED, OutcomeReason.INVALID),
        ("m-garbled", OutcomeStatus.REJECTED, OutcomeReason.INVALID),
    ]
    assert [[(e.path, e.rule) for e in event.errors] for event in events] == [
        [("$", "too_large")], [("$", "json_invalid")]
    ]
    # And both are kept in the dead letters
    assert [letter.message_id for letter in dead] == ["m-big", "m-garbled"]


_HUB_HEADERS = (
    names.HEADER_REASON,
    names.HEADER_VENDOR,
    names.HEADER_OFFICE,
    names.HEADER_CONTRACT,
    names.HEADER_IDEMPOTENCY_KEY,
    names.HEADER_ATTEMPTS,
)


async def test_a_message_without_user_id_is_dead_lettered_unauthenticated_and_counted(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given a message published without the user_id property, then a proper one
    world = await make_world()
    taps = await dead_letter_tap(hub_channel, world.office)
    anonymous = patient_create(world.office, unique("key"), last=letters())
    proper_key = unique("key")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        await vendor.publish(anonymous, office=world.office, as_itself=False)
        await vendor.publish(
            patient_create(world.office, proper_key, last=letters()), office=world.office
        )
        # When the writer has decided both (in order: the lane takes one message at a time)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
        (dead,) = await drain(taps, 1)

    # Then the first outcome is the proper intent's: nobody could be told about the other
    assert (event.idempotency_key, event.status) == (proper_key, OutcomeStatus.APPLIED)
    # And the anonymous one is dead-lettered as unauthenticated, counted, and never claimed
    assert dead.headers[names.HEADER_REASON] == "unauthenticated"
    assert dead.headers[names.HEADER_VENDOR] == ""
    assert dead.user_id is None
    labels = {"vendor": "unknown", "office": world.office, "contract": "unknown",
              "outcome": "rejected", "reason": "unauthenticated"}
    assert world.metrics.get_sample_value("hub_intents_finished_total", labels) == 1.0
    assert await ledger.story(vendor.name, anonymous["idempotency_key"]) is None
    # And counted apart, for the alert: no vendor can be told of it
    unanswerable = {"office": world.office}
    assert world.metrics.get_sample_value("hub_intents_unauthenticated_total", unanswerable) == 1


async def test_a_contract_outside_the_vendors_agreement_is_unauthorized(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given a vendor whose agreement with the office covers patient.create only
    world = await make_world(contracts=("patient.create",))
    taps = await dead_letter_tap(hub_channel, world.office)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When it publishes an appointment.create for that office
        intent = appointment_create(world.office, unique("key"), patient_ref="any")
        await vendor.publish(intent, office=world.office, contract="appointment.create")
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
        (dead,) = await drain(taps, 1)

    # Then it is refused as unauthorized, dead-lettered, and never reaches the ledger
    assert (event.status, event.reason) == (OutcomeStatus.REJECTED, OutcomeReason.UNAUTHORIZED)
    assert (dead.headers[names.HEADER_REASON], dead.headers[names.HEADER_CONTRACT]) == (
        "unauthorized", "appointment.create"
    )
    assert await ledger.story(vendor.name, intent["idempotency_key"]) is None


async def test_an_envelope_naming_another_office_than_its_queue_is_an_office_mismatch(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given a vendor with agreements for two offices
    world = await make_world(keys=(FULL_KEY, SLOW_KEY))
    routed_to, named = world.offices[0].id, world.offices[1].id
    taps = await dead_letter_tap(hub_channel, routed_to)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When it routes an intent to the first office's queue while its envelope names the other
        await vendor.publish(patient_create(named, unique("key"), last=letters()), office=routed_to)
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)
        (dead,) = await drain(taps, 1)

    # Then it is refused as an office mismatch, in the office whose queue it came through
    assert (event.reason, event.office_id) == (OutcomeReason.OFFICE_MISMATCH, routed_to)
    assert (dead.headers[names.HEADER_REASON], dead.headers[names.HEADER_OFFICE]) == (
        "office_mismatch", routed_to
    )


async def test_an_open_dental_400_is_rejected_with_open_dentals_message(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given a patient Open Dental already has (same names, birthdate and email)
    world = await make_world()
    last = letters()
    taps = await dead_letter_tap(hub_channel, world.office)
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        existing = patient_create(world.office, unique("key"), last=last)
        await vendor.publish(existing, office=world.office)
        # When the vendor creates the same person again under another key
        key = unique("key")
        await vendor.publish(patient_create(world.office, key, last=last), office=world.office)
        _, refused = await drain_outcomes(hub_channel, vendor.name, 2)
        (dead,) = await drain(taps, 1)

    # Then Open Dental's 400 makes it rejected as od_rejected, with Open Dental's words
    assert (refused.status, refused.reason) == (OutcomeStatus.REJECTED, OutcomeReason.OD_REJECTED)
    assert refused.message == "Patient already exists."
    assert dead.headers[names.HEADER_REASON] == "od_rejected"
    assert dead.headers[names.HEADER_ATTEMPTS] == 1
    rows = await od_rows(world.od_database, "SELECT PatNum FROM patient WHERE LName = %s", (last,))
    assert len(rows) == 1
    told = await ledger.story(vendor.name, key)
    assert told is not None and told.intent.status == "rejected"
    assert [call.status for call in told.api_calls] == [400]


async def test_a_reference_the_vendor_never_registered_is_an_unknown_reference(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel, ledger: MySqlLedger
) -> None:
    # Given no patient.create ever registered this reference
    world = await make_world()
    key = unique("key")
    async with running_worker(world), vendor_client(world.settings, world.vendor) as vendor:
        # When an appointment names its patient by it
        intent = appointment_create(world.office, key, patient_ref=unique("nobody"))
        await vendor.publish(intent, office=world.office, contract="appointment.create")
        (event,) = await drain_outcomes(hub_channel, vendor.name, 1)

    # Then it is refused without an API call, naming the field
    assert (event.status, event.reason) == (OutcomeStatus.REJECTED, OutcomeReason.UNKNOWN_REFERENCE)
    assert [error.path for error in event.errors] == ["payload.PatientRef"]
    told = await ledger.story(vendor.name, key)
    assert told is not None and told.intent.status == "rejected" and told.api_calls == ()


async def test_the_broker_refuses_a_body_above_the_hub_s_ceiling(
    make_world: MakeWorld,
) -> None:
    # Given a broker set up by scripts/setup-broker.sh, and a vendor
    world = await make_world()
    async with vendor_client(world.settings, world.vendor) as vendor:
        # When the vendor publishes a body one byte above the hub's ceiling
        # Then the broker refuses it and closes the vendor's channel: it never reaches a queue
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed, match="message size"):
            await vendor.publish(b"x" * (HUB_MAX_BYTES + 1), office=world.office)
