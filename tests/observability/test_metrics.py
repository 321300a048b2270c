"""The catalogue: each named method moves the series it should, with bounded labels."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from contracts import OutcomeStatus
from contracts.outcome import OutcomeReason
from hub.errors import ThrottledError, TransientError
from hub.observability import ErrorClass, HubMetrics, LaneState, StatusClass
from hub.observability.labels import BrokerReply, ChannelRole
from hub.opendental.results import ApiCall
from hub.outbox import Waiting


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_intent_received_and_finished_count_by_their_labels(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # Given a fresh catalogue
    # When one intent is received, applied, and another one rejected as invalid
    metrics.intent_received("acme", "office-1", "patient.create")
    metrics.intent_finished("acme", "office-1", "patient.create", OutcomeStatus.APPLIED)
    metrics.intent_finished(
        "acme", "office-1", "patient.create", OutcomeStatus.REJECTED, OutcomeReason.INVALID
    )
    # Then each series counted once, the applied one with reason "none"
    where = {"vendor": "acme", "office": "office-1", "contract": "patient.create"}
    assert value(registry, "hub_intents_received_total", **where) == 1
    applied = value(
        registry, "hub_intents_finished_total", **where, outcome="applied", reason="none"
    )
    rejected = value(
        registry, "hub_intents_finished_total", **where, outcome="rejected", reason="invalid"
    )
    assert (applied, rejected) == (1, 1)


def test_latency_histograms_observe_into_their_buckets(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # When an applied intent took 45 s from publish and its delivery 0.3 s to process
    metrics.publish_to_applied("office-1", 45.0)
    metrics.processing("office-1", "patient.create", 0.3)
    # Then it lands under the 60 s objective bucket and not under 30 s
    bucket = "hub_publish_to_applied_seconds_bucket"
    assert value(registry, bucket, office="office-1", le="60.0") == 1
    assert value(registry, bucket, office="office-1", le="30.0") == 0
    processed = value(
        registry, "hub_processing_seconds_count", office="office-1", contract="patient.create"
    )
    assert processed == 1


def test_od_call_records_the_request_its_status_class_and_the_pacer_wait(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # Given the client's report of a 401 on a confirm, after 0.8 s waiting for the key's slot
    call = ApiCall(
        method="PUT",
        path="/appointments/4711/Confirm",
        status=401,
        latency_s=0.12,
        od_primary_key=None,
        message="Unauthorized",
        paced_s=0.8,
    )
    # When the client's on_call hook for office-1 reports it
    metrics.od_call_observer("office-1")(call)
    # Then the request counts under its templated operation, as a 401, and as an auth failure
    operation = "PUT /appointments/{id}/Confirm"
    assert (
        value(
            registry,
            "hub_od_requests_total",
            operation=operation,
            office="office-1",
            status_class="401",
        )
        == 1
    )
    assert value(registry, "hub_od_auth_failures_total", office="office-1") == 1
    assert value(registry, "hub_pacer_wait_seconds_sum", office="office-1") == pytest.approx(0.8)
    duration = value(
        registry, "hub_od_request_duration_seconds_count", operation=operation, office="office-1"
    )
    assert duration == 1


def test_od_request_with_a_server_error_is_not_an_auth_failure(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # When a create gets a 504
    metrics.od_request("POST /patients", "office-2", StatusClass.of(504), 60.0)
    # Then it is a 5xx and the auth failure counter stays at zero
    assert (
        value(
            registry,
            "hub_od_requests_total",
            operation="POST /patients",
            office="office-2",
            status_class="5xx",
        )
        == 1
    )
    assert value(registry, "hub_od_auth_failures_total", office="office-2") == 0


def test_lane_state_sets_exactly_one_state(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # When the lane runs, then backs off
    metrics.lane_state("office-1", LaneState.RUNNING)
    metrics.lane_state("office-1", LaneState.BACKING_OFF)
    # Then only backing_off is 1
    states = {
        state.value: value(registry, "hub_lane_state", office="office-1", state=state.value)
        for state in LaneState
    }
    assert states == {"running": 0, "backing_off": 1, "paused": 0}


def test_depths_in_flight_retries_and_sql_durations(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # When the gauges and counters of the lane and the databases move
    metrics.queue_depth("office-2", 12)
    metrics.dead_letter_depth(3)
    metrics.in_flight("office-2", 1)
    metrics.in_flight("office-2", 1)
    metrics.in_flight("office-2", -1)
    metrics.retry(
        "office-2",
        "payment.create",
        ErrorClass.of(ThrottledError("x", status=429, retry_after_s=1)),
    )
    metrics.ack_failure("office-2")
    metrics.wrapper_error("timing")
    metrics.ledger_query("claim.insert", 0.004)
    metrics.od_sql_observer().on_query("reconcile_patient", 0.02, False)
    # Then each series holds what happened
    assert value(registry, "hub_queue_depth", office="office-2") == 12
    assert value(registry, "hub_dead_letter_depth") == 3
    assert value(registry, "hub_intents_in_flight", office="office-2") == 1
    assert (
        value(
            registry,
            "hub_retries_total",
            office="office-2",
            contract="payment.create",
            error_class="throttled",
        )
        == 1
    )
    assert value(registry, "hub_ack_failures_total", office="office-2") == 1
    assert value(registry, "hub_wrapper_errors_total", wrapper="timing") == 1
    assert value(registry, "hub_ledger_query_duration_seconds_count", query="claim.insert") == 1
    assert (
        value(
            registry,
            "hub_od_sql_query_duration_seconds_count",
            query="reconcile_patient",
            result="error",
        )
        == 1
    )


def test_broker_events_count_by_channel_office_and_reply(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # When the broker times out office-1's consume channel, refuses a publish on the shared
    # publish channel, cancels a consumer of the shared consume channel, and closes the
    # connection, which comes back; and a message of office-2 arrives again
    metrics.broker_channel_closed(ChannelRole.CONSUME, "office-1", BrokerReply.CONSUMER_TIMEOUT)
    metrics.broker_channel_closed(ChannelRole.PUBLISH, None, BrokerReply.ACCESS_REFUSED)
    metrics.broker_consumer_cancelled(ChannelRole.CONSUME, None)
    metrics.broker_connection_closed(BrokerReply.CONNECTION_FORCED)
    metrics.broker_reconnected()
    metrics.broker_redelivered("office-2")
    # Then each counts once under its channel, office ("shared": every office's) and reply
    closes = "hub_broker_channel_closes_total"
    assert value(registry, closes, channel="consume", office="office-1",
                 reply="consumer_timeout") == 1
    assert value(registry, closes, channel="publish", office="shared",
                 reply="access_refused") == 1
    cancels = "hub_broker_consumer_cancels_total"
    assert value(registry, cancels, channel="consume", office="shared") == 1
    assert value(registry, "hub_broker_connection_closes_total", reply="connection_forced") == 1
    assert value(registry, "hub_broker_reconnects_total") == 1
    assert value(registry, "hub_broker_redeliveries_total", office="office-2") == 1


def test_broker_series_exist_from_the_start_for_the_alert_and_dashboards(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # Given a catalogue nothing has happened to yet
    # Then the shared channels' and each office's channel's closes and cancels are at zero
    closes, cancels = "hub_broker_channel_closes_total", "hub_broker_consumer_cancels_total"
    for channel, office in [("consume", "shared"), ("publish", "shared"), ("consume", "office-2")]:
        for reply in ("precondition_failed", "consumer_timeout"):
            assert value(registry, closes, channel=channel, office=office, reply=reply) == 0
        assert value(registry, cancels, channel=channel, office=office) == 0
    # And so are the connection's losses, its reconnects, and each office's redeliveries
    assert value(registry, "hub_broker_connection_closes_total", reply="lost") == 0
    assert value(registry, "hub_broker_reconnects_total") == 0
    assert value(registry, "hub_broker_redeliveries_total", office="office-1") == 0


def test_error_classes_follow_the_hub_errors() -> None:
    # Given one failure of each kind, Then each maps to its retry class
    assert ErrorClass.of(TransientError("x", maybe_applied=True)) is ErrorClass.MAYBE_APPLIED
    assert ErrorClass.of(TransientError("x", status=503)) is ErrorClass.TRANSIENT
    assert ErrorClass.of(TimeoutError()) is ErrorClass.TIMEOUT
    assert ErrorClass.of(ValueError()) is ErrorClass.OTHER


def test_series_exist_from_the_start_for_known_offices_and_agreements(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # Given a catalogue nothing has happened to yet
    # Then each agreement's intent and retry counters, and each office's lane and auth series,
    # are at zero
    where = {"vendor": "paywell", "office": "office-2", "contract": "payment.create"}
    assert value(registry, "hub_intents_received_total", **where) == 0
    assert (
        value(registry, "hub_intents_finished_total", **where, outcome="applied", reason="none")
        == 0
    )
    assert value(registry, "hub_lane_state", office="office-1", state="paused") == 0
    assert value(registry, "hub_od_auth_failures_total", office="office-2") == 0
    assert value(registry, "hub_publish_to_applied_seconds_count", office="office-1") == 0
    retried = value(
        registry, "hub_retries_total", office="office-2", contract="payment.create",
        error_class="maybe_applied",
    )  # fmt: skip
    assert retried == 0


def test_waiting_outcomes_are_set_per_vendor_from_each_count_and_zero_once_delivered(
    metrics: HubMetrics, registry: CollectorRegistry
) -> None:
    # Given a catalogue nothing has happened to yet, Then every known vendor waits for nothing
    assert value(registry, "hub_outcomes_waiting", vendor="paywell") == 0
    assert value(registry, "hub_outcomes_dropped_total", vendor="acme") == 0
    # When the outbox holds outcomes of acme and of two vendors the registry does not know
    metrics.outcomes_waiting([
        Waiting(vendor="acme", count=3, oldest_s=1200.0, attempts=4, last_error="returned"),
        Waiting(vendor="gone-1", count=2, oldest_s=60.0, attempts=1, last_error=None),
        Waiting(vendor="gone-2", count=1, oldest_s=90.0, attempts=1, last_error=None),
    ])
    # Then they are counted under their vendor, or together as unknown, with the oldest's age
    assert value(registry, "hub_outcomes_waiting", vendor="acme") == 3
    assert value(registry, "hub_outcomes_waiting_oldest_seconds", vendor="acme") == 1200
    assert value(registry, "hub_outcomes_waiting", vendor="unknown") == 3
    assert value(registry, "hub_outcomes_waiting_oldest_seconds", vendor="unknown") == 90
    assert value(registry, "hub_outcomes_waiting", vendor="paywell") == 0
    # When the next count finds the outbox empty, Then nobody waits any more
    metrics.outcomes_waiting([])
    for vendor in ("acme", "unknown"):
        assert value(registry, "hub_outcomes_waiting", vendor=vendor) == 0
        assert value(registry, "hub_outcomes_waiting_oldest_seconds", vendor=vendor) == 0
