"""The forms webhook adapter over real HTTP, publishing to the real broker as a real vendor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aio_pika.abc import AbstractRobustChannel
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.forms import INTAKE_PATH, WEBHOOK_SIGNATURE, forms_app, intake_key
from adapters.publisher import VendorPublisher
from contracts import parse_intent
from contracts.v1.commlog import CommlogCreate
from contracts.v1.patient import PatientCreate
from hub import names
from hub.topology import declare_office_queue
from tests.adapters.conftest import VendorAccount, take, unique
from tests.adapters.forms_support import (
    body_of,
    intake_config,
    intake_form,
    patient_values,
    signed,
)

RETRY_AFTER_S = 7
Client = TestClient[web.Request, web.Application]
HeadersFor = Callable[[bytes], dict[str, str]]


@pytest.fixture
async def client(vendor: VendorAccount) -> AsyncIterator[Client]:
    """The adapter's HTTP server, publishing as the vendor."""
    offices = frozenset({vendor.office, vendor.unserved_office})
    config = intake_config(offices, retry_after_s=RETRY_AFTER_S)
    publisher = VendorPublisher(vendor.url(), vendor.name, confirm_timeout_s=5)
    async with publisher, TestClient(TestServer(forms_app(publisher, config))) as test_client:
        yield test_client


async def post_form(client: Client, body: bytes, headers: dict[str, str]) -> ClientResponse:
    return await client.post(INTAKE_PATH, data=body, headers=headers)


async def test_a_signed_form_publishes_a_patient_then_a_commlog(
    client: Client, vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given a signed intake form for the vendor's office
    body = body_of(intake_form(vendor.office, "sub-100"))

    # When it is posted
    reply = await post_form(client, body, signed(body))

    # Then the reply is 202 with both intents' keys, after the broker confirmed them
    assert reply.status == 202
    assert await reply.json() == {
        "intents": [
            {
                "contract": "patient.create",
                "idempotency_key": intake_key("sub-100", "patient.create"),
            },
            {
                "contract": "commlog.create",
                "idempotency_key": intake_key("sub-100", "commlog.create"),
            },
        ]
    }
    # And the office queue holds the patient first, then the commlog naming it, as the vendor
    patient_message, commlog_message = await take(hub_channel, names.office_queue(vendor.office), 2)
    assert {patient_message.user_id, commlog_message.user_id} == {vendor.name}
    patient, commlog = parse_intent(patient_message.body), parse_intent(commlog_message.body)
    assert isinstance(patient.payload, PatientCreate) and isinstance(commlog.payload, CommlogCreate)
    assert (patient.payload.LName, patient.payload.Gender) == ("Quillonby", "Female")
    assert (patient.payload.Birthdate, patient.payload.Zip) == ("1984-07-19", "97201")
    assert "WkPhone" not in patient.payload.model_fields_set  # left blank on the form
    assert patient.payload.PatientRef == commlog.payload.PatientRef == "sub-100"
    assert (commlog.payload.Mode_, commlog.payload.SentOrReceived) == ("None", "Received")
    # And the commlog's note says which form arrived and when, without the patient's data
    assert "New patient intake" in commlog.payload.Note
    assert "2025-02-03T09:15:00-08:00" in commlog.payload.Note
    assert not [value for value in patient_values() if value in commlog.payload.Note]


async def test_the_same_form_under_a_new_webhook_id_repeats_the_same_intents(
    client: Client, vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given a signed intake form posted once
    body = body_of(intake_form(vendor.office, "sub-200"))
    first = await post_form(client, body, signed(body))

    # When the forms service sends it again as another webhook (a new webhook-id)
    again = await post_form(client, body, signed(body))

    # Then both replies name the same intents, and the broker holds the same messages twice
    assert (first.status, again.status) == (202, 202)
    assert await first.json() == await again.json()
    messages = await take(hub_channel, names.office_queue(vendor.office), 4)
    assert [m.message_id for m in messages[:2]] == [m.message_id for m in messages[2:]]
    assert [m.body for m in messages[:2]] == [m.body for m in messages[2:]]


def _tampered(body: bytes) -> dict[str, str]:
    return signed(body.replace(b"Quillonby", b"Quillonbz"))


@pytest.mark.parametrize(
    "headers_for",
    [
        pytest.param(lambda body: {"Content-Type": "application/json"}, id="missing"),
        pytest.param(lambda body: signed(body, b"another-secret-of-the-sender"), id="wrong-secret"),
        pytest.param(_tampered, id="other-body"),
        pytest.param(lambda body: signed(body) | {WEBHOOK_SIGNATURE: "v1,zz"}, id="malformed"),
    ],
)
async def test_a_missing_or_bad_signature_is_401_and_publishes_nothing(
    client: Client,
    vendor: VendorAccount,
    hub_channel: AbstractRobustChannel,
    headers_for: HeadersFor,
) -> None:
    # Given an intake form without a valid signature
    body = body_of(intake_form(vendor.office, "sub-unsigned"))

    # When it is posted
    reply = await post_form(client, body, headers_for(body))

    # Then it is refused with 401
    assert reply.status == 401
    # And nothing was published: a signed form posted next is the first message on the queue
    good = body_of(intake_form(vendor.office, "sub-signed"))
    assert (await post_form(client, good, signed(good))).status == 202
    (first,) = await take(hub_channel, names.office_queue(vendor.office), 1)
    assert first.message_id == intake_key("sub-signed", "patient.create")


async def test_a_bad_form_is_422_naming_fields_and_rules_without_values(
    client: Client, vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given a signed form with a blank last name, an impossible birthdate, a bad e-mail and state,
    # and a field the form does not have
    form = intake_form(vendor.office, "sub-bad")
    form["patient"] |= {
        "last_name": "",
        "birthdate": "1984-19-07",
        "email": "adelheid at quillonby",
        "state": "Oregon",
        "ssn": "123456789",
    }
    body = body_of(form)

    # When it is posted
    reply = await post_form(client, body, signed(body))

    # Then it is refused with 422, naming each field's path and rule
    assert reply.status == 422
    errors = (await reply.json())["errors"]
    assert {(e["path"], e["rule"]) for e in errors} == {
        ("patient.last_name", "missing"),
        ("patient.birthdate", "date_format"),
        ("patient.email", "pattern"),
        ("patient.state", "pattern"),
        ("patient.ssn", "extra_forbidden"),
    }
    # And no value of the form is echoed
    text = await reply.text()
    assert not [
        v for v in ["1984-19-07", "adelheid at quillonby", "Oregon", "123456789"] if v in text
    ]
    assert not [value for value in patient_values() if value in text]
    # And nothing was published
    good = body_of(intake_form(vendor.office, "sub-good"))
    assert (await post_form(client, good, signed(good))).status == 202
    (first,) = await take(hub_channel, names.office_queue(vendor.office), 1)
    assert first.message_id == intake_key("sub-good", "patient.create")


async def test_an_unconfirmed_publish_is_503_and_the_retry_publishes_the_same_intents(
    client: Client, vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given a signed form for an office of the vendor's agreement whose queue is not declared yet,
    # so the broker returns the intent instead of confirming it
    body = body_of(intake_form(vendor.unserved_office, "sub-300"))

    # When it is posted
    refused = await post_form(client, body, signed(body))

    # Then the reply is 503 with Retry-After, without the patient's data
    assert refused.status == 503
    assert refused.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert not [value for value in patient_values() if value in await refused.text()]

    # When the office's queue exists and the forms service sends the same form again
    await declare_office_queue(hub_channel, vendor.unserved_office)
    retried = await post_form(client, body, signed(body))

    # Then it is accepted with the intents' original keys, and both are on the queue
    assert retried.status == 202
    queued = await take(hub_channel, names.office_queue(vendor.unserved_office), 2)
    assert [m.message_id for m in queued] == [
        intake_key("sub-300", "patient.create"),
        intake_key("sub-300", "commlog.create"),
    ]


async def test_an_office_without_an_agreement_is_403_and_the_adapter_goes_on(
    client: Client, vendor: VendorAccount, hub_channel: AbstractRobustChannel
) -> None:
    # Given a signed form for an office the vendor has no agreement with
    body = body_of(intake_form(unique("office"), "sub-400"))

    # When it is posted, Then the broker's refusal is 403
    assert (await post_form(client, body, signed(body))).status == 403

    # And a form for the vendor's own office is still published
    good = body_of(intake_form(vendor.office, "sub-401"))
    assert (await post_form(client, good, signed(good))).status == 202
    (first,) = await take(hub_channel, names.office_queue(vendor.office), 1)
    assert first.message_id == intake_key("sub-401", "patient.create")
