"""Reliability helpers: intents of every create contract (the reconciliation scenarios' natural
keys), deterministic simulator faults, and reading a world's metrics and ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
from aio_pika.abc import AbstractRobustChannel

from contracts import OutcomeEvent, OutcomeStatus
from hub.ledger import MySqlLedger
from hub.settings import HubSettings
from odsim.faults import FaultConfig
from tests.reconcile.scenarios import Scenario
from tests.writer.support import (
    VendorClient,
    World,
    drain_outcomes,
    letters,
    patient_create,
    unique,
)

# Seeds whose first request in scope meets the fault at rate 0.5 and the next two do not (the
# simulator draws the same four numbers per request whatever is enabled; tests/odsim shows it).
FIRST_500 = FaultConfig(seed=9, rate_500=0.5)
FIRST_504_AFTER_S = 0.3
FIRST_504 = FaultConfig(seed=0, rate_504=0.5, delay_504_s=FIRST_504_AFTER_S)
EVERY_WRITE_DROPPED = FaultConfig(rate_commit_then_drop=1.0, writes_only=True)
FIRST_DROPPED = FaultConfig(seed=6, rate_commit_then_drop=0.5)

ROWS_OF = {
    "patient": "SELECT PatNum AS pk FROM patient WHERE LName = %s AND FName = %s",
    "appointment": "SELECT AptNum AS pk FROM appointment WHERE PatNum = %s",
    "commlog": "SELECT CommlogNum AS pk FROM commlog WHERE PatNum = %s",
    "payment": "SELECT PayNum AS pk FROM payment WHERE PatNum = %s",
    "document": "SELECT DocNum AS pk FROM document WHERE PatNum = %s",
    "allergy": "SELECT AllergyNum AS pk FROM allergy WHERE PatNum = %s",
    "medicationpat": "SELECT MedicationPatNum AS pk FROM medicationpat WHERE PatNum = %s",
    "disease": "SELECT DiseaseNum AS pk FROM disease WHERE PatNum = %s",
}


def intent_of(
    contract: str, office: str, key: str, payload: dict[str, Any], version: int = 1
) -> dict[str, Any]:
    return {
        "contract": contract, "version": version, "idempotency_key": key, "office_id": office,
        "occurred_at": "2031-05-01T09:30:00-05:00", "payload": payload,
    }


def scenario_intent(scenario: Scenario, office: str, patient_ref: str) -> dict[str, Any]:
    """The scenario's create, naming its patient (if any) by the vendor's reference."""
    payload = dict(scenario.payload)
    if scenario.names_patient:
        payload["PatientRef"] = patient_ref
    return intent_of(scenario.contract, office, unique("key"), payload, scenario.version)


def rows_args(scenario: Scenario, pat_num: int) -> tuple[object, ...]:
    if scenario.table.value == "patient":
        return (scenario.payload["LName"], scenario.payload["FName"])
    return (pat_num,)


def twin_body(scenario: Scenario, pat_num: int, twin: int) -> dict[str, Any]:
    """The scenario's row as another program would create it: same natural keys."""
    body: dict[str, Any] = dict(scenario.payload)
    if scenario.names_patient:
        body["PatNum"] = pat_num
    body[scenario.twin_field] = scenario.twin_values[twin]
    if scenario.contract == "commlog.create" and scenario.version == 2 and "CommType" in body:
        body["commType"] = body.pop("CommType")  # a type's name, as Open Dental's API takes it
    return body


async def anchor_patient(
    world: World, vendor: VendorClient, channel: AbstractRobustChannel, ref: str
) -> int:
    """A patient the vendor created through the hub with its own reference; its PatNum."""
    intent = patient_create(world.office, unique("key"), last=letters(), ref=ref)
    await vendor.publish(intent, office=world.office)
    (event,) = await drain_outcomes(channel, vendor.name, 1)
    assert event.status is OutcomeStatus.APPLIED, event.message
    return event.od[0].primary_key


def sample(world: World, name: str, labels: dict[str, str]) -> float:
    """A metric's value in the world's registry (0 when it never happened)."""
    return world.metrics.get_sample_value(name, labels) or 0.0


async def api_statuses(ledger: MySqlLedger, event: OutcomeEvent) -> list[int | None]:
    told = await ledger.story(event.vendor, event.idempotency_key)
    assert told is not None
    return [call.status for call in told.api_calls]



async def active_flags(queue: str) -> list[bool]:
    """Whether each consumer of ``queue`` is the active one (single active consumer), as the
    management API shows it."""
    settings = HubSettings()
    auth = (settings.management_user, settings.management_password.get_secret_value())
    async with httpx.AsyncClient(base_url=settings.management_url, auth=auth) as http:
        reply = await http.get(f"/api/queues/%2F/{queue}")
        reply.raise_for_status()
    return [bool(consumer.get("active")) for consumer in reply.json().get("consumer_details", [])]


def every_key(
    keys: Iterable[str], seen: Iterable[OutcomeEvent] = ()
) -> Callable[[list[OutcomeEvent]], bool]:
    """Enough outcomes: one for each of ``keys``, counting those ``seen`` before (repeats of an
    outcome are allowed)."""
    wanted = set(keys) - {event.idempotency_key for event in seen}

    def enough(events: list[OutcomeEvent]) -> bool:
        return {event.idempotency_key for event in events} >= wanted

    return enough
