"""The writer's /metrics after a real flow: the catalogue's series for what just happened, with
bounded labels; /healthz and /readyz answer while everything runs."""

from __future__ import annotations

import httpx
from aio_pika.abc import AbstractRobustChannel
from prometheus_client.parser import text_string_to_metric_families

from tests.operations.support import fast, publish, running_writer, until_lane, vendor_channel
from tests.writer.conftest import MakeWorld
from tests.writer.support import dead_letter_tap, drain, drain_outcomes, letters, patient_create

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def _assert_state_series(samples: Samples, office: str) -> None:
    claims = _value(samples, "hub_ledger_query_duration_seconds_count", query="claim.upsert")
    assert claims == 2  # the invalid one is refused before any claim
    assert _value(samples, "hub_lane_state", office=office, state="running") == 1
    assert _value(samples, "hub_lane_state", office=office, state="paused") == 0
    assert _value(samples, "hub_queue_depth", office=office) == 0
    assert (_value(samples, "hub_dead_letter_depth") or 0) >= 1
    assert _value(samples, "hub_intents_in_flight", office=office) == 0


async def test_a_flow_shows_in_the_writers_metrics(
    make_world: MakeWorld, hub_channel: AbstractRobustChannel
) -> None:
    # Given a running writer serving its metrics
    world = fast(await make_world())
    office, vendor = world.office, world.vendor.name
    taps = await dead_letter_tap(hub_channel, office)
    applied = patient_create(office, "k-applied", last=letters())
    invalid = patient_create(office, "k-invalid", last=letters())
    invalid["payload"]["Birthdate"] = "01/02/1980"
    async with running_writer(world) as writer, httpx.AsyncClient(timeout=10) as http:
        # When the vendor sends an intent, the same again, and an invalid one
        async with vendor_channel(world.settings, world.vendor) as channel:
            for intent in (applied, applied, invalid):
                await publish(channel, vendor, intent)
        await drain_outcomes(hub_channel, vendor, 3)
        await drain(taps, 1)
        await until_lane(world, office, in_flight=0, queue_depth=0)
        health = await http.get(f"{writer.server.url}/healthz")
        ready = await http.get(f"{writer.server.url}/readyz")
        samples = _samples((await http.get(f"{writer.server.url}/metrics")).text)

    # Then each intent was received and finished by vendor, office, contract and outcome
    intent = {"vendor": vendor, "office": office, "contract": "patient.create"}
    assert _value(samples, "hub_intents_received_total", **intent) == 3
    for outcome, reason in (("applied", "none"), ("duplicate", "none"), ("rejected", "invalid")):
        labels = {**intent, "outcome": outcome, "reason": reason}
        assert _value(samples, "hub_intents_finished_total", **labels) == 1, outcome
    # And the one Open Dental request, its latency, pacing and publish-to-applied were measured
    request = {"operation": "POST /patients", "office": office}
    assert _value(samples, "hub_od_requests_total", **request, status_class="2xx") == 1
    assert _value(samples, "hub_od_request_duration_seconds_count", **request) == 1
    assert _value(samples, "hub_pacer_wait_seconds_count", office=office) == 1
    assert _value(samples, "hub_publish_to_applied_seconds_count", office=office) == 1
    processing = {"office": office, "contract": "patient.create"}
    assert _value(samples, "hub_processing_seconds_count", **processing) == 3
    # And the ledger's statements, the lane's state, depths and in-flight count are there
    _assert_state_series(samples, office)
    # And no label carries the idempotency keys
    assert not any("k-applied" in str(key) or "k-invalid" in str(key) for key in samples)
    # And the writer is alive and ready
    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"broker", "hub_database", "registry"}
