"""Intake's pure decisions, ``admit`` (identify, validate, authorize), without a broker: a
registry built in memory and deliveries as the consumer decodes them. What only the broker can
show (the dead letter, the outcome routed to the vendor) stays in test_refusals.py."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr

from contracts import OutcomeReason, OutcomeStatus
from hub import names
from hub.registry import Agreement, Office, OfficeDatabase, Registry, Vendor
from hub.settings import ApiMode
from hub.writer.decisions import Final, IntentIdentity
from hub.writer.intake import Admitted, admit
from hub.writer.office_queue import Delivery, KeptProperties

VENDOR = "acme"
OFFICE = "office-1"
OTHER_OFFICE = "office-2"  # the vendor has an agreement for it too
STRANGER_OFFICE = "office-3"  # the hub serves it, the vendor has no agreement for it


def _office(office_id: str) -> Office:
    return Office(
        id=office_id, api_url="http://127.0.0.1:1/api/v1", mode=ApiMode.SERVICE,
        read_only=False, customer_key=SecretStr("key"), developer_key=None,
        db=OfficeDatabase(host="127.0.0.1", port=3306, database="opendental",
                          user="od_readonly", password=SecretStr("pw")),
    )


REGISTRY = Registry(
    offices={office: _office(office) for office in (OFFICE, OTHER_OFFICE, STRANGER_OFFICE)},
    vendors={
        VENDOR: Vendor(name=VENDOR, agreements=(
            Agreement(office=OFFICE, contracts=frozenset({"patient.create"})),
            Agreement(office=OTHER_OFFICE, contracts=frozenset({"patient.create"})),
        )),
    },
)


def _intent(**changes: Any) -> dict[str, Any]:
    intent: dict[str, Any] = {
        "contract": "patient.create", "version": 1, "idempotency_key": "key-1",
        "office_id": OFFICE, "occurred_at": "2030-03-01T09:30:00-05:00",
        "correlation_id": "corr-1",
        "payload": {"LName": "Smith", "FName": "Ann", "Birthdate": "1980-01-02"},
    }
    return {**intent, **changes}


def _delivery(
    body: dict[str, Any] | bytes, *, user_id: str | None = VENDOR, office: str = OFFICE
) -> Delivery:
    return Delivery(
        office=office,
        body=body if isinstance(body, bytes) else json.dumps(body).encode(),
        user_id=user_id,
        exchange=names.INTENTS_EXCHANGE,
        redelivered=False,
        properties=KeptProperties(content_type="application/json", message_id="m-1"),
    )


def _refused(decision: Admitted | Final) -> Final:
    """The refusal: rejected and dead-lettered, never a duplicate."""
    assert isinstance(decision, Final), decision
    assert decision.status is OutcomeStatus.REJECTED and decision.dead_lettered
    return decision


# The envelope of the intent above, as a refusal after validation names it.
READ = IntentIdentity(
    office=OFFICE, message_id="m-1", vendor=VENDOR, vendor_known=True,
    contract="patient.create", version=1, idempotency_key="key-1", correlation_id="corr-1",
)


@pytest.mark.parametrize("user_id", [None, ""], ids=["absent", "empty"])
def test_a_message_without_user_id_is_unauthenticated_and_read_no_further(
    user_id: str | None,
) -> None:
    # Given a message whose publisher the broker did not prove, with a body that is not even
    # valid
    delivery = _delivery(_intent(version="one"), user_id=user_id)
    # When it is admitted
    refusal = _refused(admit(delivery, REGISTRY))
    # Then it is unauthenticated, naming only the queue's office: nobody can be told, and the
    # body's field errors are nobody's business
    assert refusal.reason is OutcomeReason.UNAUTHENTICATED
    assert refusal.intent == IntentIdentity(office=OFFICE, message_id="m-1")
    assert refusal.errors == ()


def test_an_invalid_body_is_rejected_with_every_broken_rule_and_its_envelope_read() -> None:
    # Given an intent from a known vendor missing its last name, its birthdate the US way
    body = _intent(payload={"FName": "Ann", "Birthdate": "01/02/1980"})
    # When it is admitted
    refusal = _refused(admit(_delivery(body), REGISTRY))
    # Then it is invalid, with each broken rule by field path, and the refusal still names the
    # envelope's fields so the vendor's outcome can say which intent it was
    assert refusal.reason is OutcomeReason.INVALID
    assert [(error.path, error.rule) for error in refusal.errors] == [
        ("payload.LName", "missing"), ("payload.Birthdate", "date_format"),
    ]
    assert refusal.intent == READ
    # And no message quotes the offending value
    assert "01/02/1980" not in " ".join(error.message for error in refusal.errors)


NOTHING_READ = IntentIdentity(office=OFFICE, message_id="m-1", vendor=VENDOR, vendor_known=True)


@pytest.mark.parametrize(
    ("body", "read"),
    [
        (b"\xff\xfe", NOTHING_READ),
        (b"{not json", NOTHING_READ),
        (b"[1, 2]", NOTHING_READ),
        (b"[" * 100_000, NOTHING_READ),
        (_intent(contract="patient.delete"), replace(READ, contract=None)),
        (_intent(version="1"), replace(READ, version=None)),
        (_intent(version=True), replace(READ, version=None)),
        (_intent(idempotency_key="k" * 129), replace(READ, idempotency_key=None)),
        (_intent(idempotency_key=7), replace(READ, idempotency_key=None)),
        (_intent(correlation_id="tab\there"), replace(READ, correlation_id=None)),
        (_intent(occurred_at="yesterday"), READ),
    ],
    ids=["not-utf8", "not-json", "not-an-object", "nested-beyond-reason", "unknown-contract",
         "version-as-text", "version-as-bool", "key-too-long", "key-not-text",
         "correlation-not-printable", "other-field-broken"],
)
def test_a_refused_body_names_only_the_envelope_fields_well_formed_on_their_own(
    body: dict[str, Any] | bytes, read: IntentIdentity
) -> None:
    # Given a body broken in one place
    # When it is admitted
    refusal = _refused(admit(_delivery(body), REGISTRY))
    # Then it is invalid, and names each envelope field only if that field is well-formed
    assert refusal.reason is OutcomeReason.INVALID and refusal.errors
    assert refusal.intent == read


@pytest.mark.parametrize("named", [OFFICE, OTHER_OFFICE], ids=["its-queue", "another-office"])
def test_a_publisher_the_registry_does_not_know_is_unauthorized(named: str) -> None:
    # Given a valid intent published by a broker user that is no vendor of the hub, its
    # envelope naming this queue's office or another one
    delivery = _delivery(_intent(office_id=named), user_id="stranger")
    # When it is admitted
    refusal = _refused(admit(delivery, REGISTRY))
    # Then it is unauthorized before anything else is checked, naming the publisher as one the
    # hub has no outcome queue for
    assert refusal.reason is OutcomeReason.UNAUTHORIZED
    assert (refusal.intent.vendor, refusal.intent.vendor_known) == ("stranger", False)


def test_an_envelope_naming_another_office_than_its_queue_is_an_office_mismatch() -> None:
    # Given an intent for the other office, which the vendor may write to, in this office's
    # queue
    delivery = _delivery(_intent(office_id=OTHER_OFFICE), office=OFFICE)
    # When it is admitted
    refusal = _refused(admit(delivery, REGISTRY))
    # Then it is an office mismatch, refused in the office whose queue it came through
    assert refusal.reason is OutcomeReason.OFFICE_MISMATCH
    assert refusal.intent == READ


@pytest.mark.parametrize(
    ("office", "contract", "payload"),
    [
        (OFFICE, "appointment.create",
         {"PatNum": 1, "Op": 1, "AptDateTime": "2030-04-03 08:00:00"}),
        (STRANGER_OFFICE, "patient.create",
         {"LName": "Smith", "FName": "Ann", "Birthdate": "1980-01-02"}),
    ],
    ids=["contract-outside-the-agreement", "office-without-an-agreement"],
)
def test_an_intent_without_a_data_agreement_is_unauthorized(
    office: str, contract: str, payload: dict[str, Any]
) -> None:
    # Given a valid intent of a contract the office did not agree the vendor may send it
    body = _intent(contract=contract, office_id=office, payload=payload)
    # When it is admitted from that office's queue
    refusal = _refused(admit(_delivery(body, office=office), REGISTRY))
    # Then it is unauthorized, naming what was asked
    assert refusal.reason is OutcomeReason.UNAUTHORIZED
    assert (refusal.intent.office, refusal.intent.contract) == (office, contract)


@pytest.mark.parametrize("office", [OFFICE, OTHER_OFFICE])
def test_a_valid_intent_under_an_agreement_is_admitted_with_who_sent_it_and_what_it_is(
    office: str,
) -> None:
    # Given a valid patient.create the vendor may send this office, from its queue
    delivery = _delivery(_intent(office_id=office), office=office)
    # When it is admitted
    admitted = admit(delivery, REGISTRY)
    # Then it goes on with its typed intent and its identity; nothing is claimed yet
    assert isinstance(admitted, Admitted)
    assert admitted.identity == IntentIdentity(
        office=office, message_id="m-1", vendor=VENDOR, vendor_known=True,
        contract="patient.create", version=1, idempotency_key="key-1", correlation_id="corr-1",
        intent_id=None, attempt=None,
    )
    assert (admitted.intent.office_id, admitted.intent.idempotency_key) == (office, "key-1")
    assert admitted.intent.payload.model_dump(exclude_unset=True) == {
        "LName": "Smith", "FName": "Ann", "Birthdate": "1980-01-02"
    }
