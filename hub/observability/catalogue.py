"""Every metric the hub exposes, declared once on an injected registry.

Only ``HubMetrics`` (hub/observability/metrics.py) touches these objects; the rest of the hub
calls its named methods. Names carry the ``hub_`` prefix and their unit. The families are the
hub's compact ones (hub/observability/families.py): prometheus_client's exposition, a fraction
of its memory per series.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from hub.observability.constants import (
    LOOP_LAG_BUCKETS_S,
    OD_REQUEST_BUCKETS_S,
    PACER_WAIT_BUCKETS_S,
    PROCESSING_BUCKETS_S,
    PUBLISH_TO_APPLIED_BUCKETS_S,
    SQL_BUCKETS_S,
)
from hub.observability.families import Counter, Gauge, Histogram


@dataclass(frozen=True, kw_only=True)
class IntentInstruments:
    received: Counter
    finished: Counter
    publish_to_applied: Histogram
    processing: Histogram
    retries: Counter
    reconciliations: Counter
    ack_failures: Counter
    wrapper_errors: Counter
    unauthenticated: Counter
    dead_letters_expired: Counter
    deprecated: Counter


@dataclass(frozen=True, kw_only=True)
class DependencyInstruments:
    """Open Dental's API and the pacer, the ledger and the read-only SQL door."""

    od_requests: Counter
    od_request_duration: Histogram
    od_auth_failures: Counter
    pacer_wait: Histogram
    pacer_backoff: Gauge
    ledger_query: Histogram
    od_sql_query: Histogram


@dataclass(frozen=True, kw_only=True)
class StateInstruments:
    lane_state: Gauge
    lane_paused: Gauge
    parked: Gauge
    queue_depth: Gauge
    dead_letter_depth: Gauge
    in_flight: Gauge
    event_loop_lag: Histogram
    offices_owned: Gauge  # this writer's share of the offices (hub/control/ownership.py)
    handovers: Counter


@dataclass(frozen=True, kw_only=True)
class BrokerInstruments:
    """What the broker did to the writer's connection, channels, consumers and deliveries."""

    connection_closes: Counter
    reconnects: Counter
    channel_closes: Counter
    consumer_cancels: Counter
    redeliveries: Counter


@dataclass(frozen=True, kw_only=True)
class OutboxInstruments:
    """Outcome events the broker would not take, kept for their vendor (hub/outbox)."""

    kept: Counter
    relayed: Counter
    dropped: Counter
    waiting: Gauge
    waiting_oldest: Gauge


@dataclass(frozen=True, kw_only=True)
class WatchInstruments:
    """``hub watch``: its scans of offices' databases, the changes it attributed, the events
    Open Dental pushed to it (hub/watch)."""

    scan_duration: Histogram
    scan_rows: Counter
    changes: Counter
    interval: Gauge
    events: Counter


@dataclass(frozen=True, kw_only=True)
class Instruments:
    intents: IntentInstruments
    dependencies: DependencyInstruments
    state: StateInstruments
    broker: BrokerInstruments
    outbox: OutboxInstruments
    watch: WatchInstruments


def declare(registry: CollectorRegistry) -> Instruments:
    """Create every metric on ``registry`` (never prometheus_client's global default)."""
    return Instruments(
        intents=_intent_metrics(registry),
        dependencies=_dependency_metrics(registry),
        state=_state_metrics(registry),
        broker=_broker_metrics(registry),
        outbox=_outbox_metrics(registry),
        watch=_watch_metrics(registry),
    )


def _intent_metrics(registry: CollectorRegistry) -> IntentInstruments:
    return IntentInstruments(
        received=Counter(
            "hub_intents_received",
            "Intents taken off an office queue.",
            ["vendor", "office", "contract"],
            registry=registry,
        ),
        finished=Counter(
            "hub_intents_finished",
            "Intents decided, by outcome and reason.",
            ["vendor", "office", "contract", "outcome", "reason"],
            registry=registry,
        ),
        publish_to_applied=Histogram(
            "hub_publish_to_applied_seconds",
            "From the vendor's publish to Open Dental's reply, for applied intents.",
            ["office"],
            buckets=PUBLISH_TO_APPLIED_BUCKETS_S,
            registry=registry,
        ),
        processing=Histogram(
            "hub_processing_seconds",
            "One delivery through the writer, delivery to ack.",
            ["office", "contract"],
            buckets=PROCESSING_BUCKETS_S,
            registry=registry,
        ),
        retries=Counter(
            "hub_retries",
            "Attempts that failed transiently and will be tried again.",
            ["office", "contract", "error_class"],
            registry=registry,
        ),
        reconciliations=Counter(
            "hub_reconciliations",
            "Attempts in doubt looked up in the office's database, by what was found.",
            ["office", "contract", "verdict"],
            registry=registry,
        ),
        ack_failures=Counter(
            "hub_ack_failures",
            "Acks or nacks the broker did not take (the channel was gone).",
            ["office"],
            registry=registry,
        ),
        unauthenticated=Counter(
            "hub_intents_unauthenticated",
            "Messages without user_id: dead-lettered as unauthenticated, and no vendor can be "
            "told (there is nobody to route an outcome to).",
            ["office"],
            registry=registry,
        ),
        dead_letters_expired=Counter(
            "hub_dead_letters_expired",
            "Dead letters that outlived hub.dead's retention, recorded by intent id (body gone).",
            ["office", "vendor"],
            registry=registry,
        ),
        deprecated=Counter(
            "hub_intents_deprecated",
            "Intents of a deprecated contract version (contracts/README.md, Versions): who still "
            "sends what, before its sunset.",
            ["vendor", "contract", "version"],
            registry=registry,
        ),
        wrapper_errors=Counter(
            "hub_wrapper_errors",
            "Errors reporting a run: a log line, a metric, a lane state (the decision stood).",
            ["wrapper"],
            registry=registry,
        ),
    )


def _dependency_metrics(registry: CollectorRegistry) -> DependencyInstruments:
    return DependencyInstruments(
        od_requests=Counter(
            "hub_od_requests",
            "Open Dental API requests, by operation and status class.",
            ["operation", "office", "status_class"],
            registry=registry,
        ),
        od_request_duration=Histogram(
            "hub_od_request_duration_seconds",
            "Open Dental API request latency.",
            ["operation", "office"],
            buckets=OD_REQUEST_BUCKETS_S,
            registry=registry,
        ),
        od_auth_failures=Counter(
            "hub_od_auth_failures",
            "Open Dental 401 replies: a key or permission problem.",
            ["office"],
            registry=registry,
        ),
        pacer_wait=Histogram(
            "hub_pacer_wait_seconds",
            "Time waited for the customer key's next request slot.",
            ["office"],
            buckets=PACER_WAIT_BUCKETS_S,
            registry=registry,
        ),
        pacer_backoff=Gauge(
            "hub_pacer_backoff_seconds",
            "Added to each slot of the office's customer key for the throttle replies it met; "
            "it decays as replies come without one (0: none).",
            ["office"],
            registry=registry,
        ),
        ledger_query=Histogram(
            "hub_ledger_query_duration_seconds",
            "Hub ledger statements, by query name.",
            ["query"],
            buckets=SQL_BUCKETS_S,
            registry=registry,
        ),
        od_sql_query=Histogram(
            "hub_od_sql_query_duration_seconds",
            "Read-only SQL queries on Open Dental databases, by query name and result.",
            ["query", "result"],
            buckets=SQL_BUCKETS_S,
            registry=registry,
        ),
    )


def _state_metrics(registry: CollectorRegistry) -> StateInstruments:
    return StateInstruments(
        lane_state=Gauge(
            "hub_lane_state",
            "1 for the state an office's lane is in, 0 for the others.",
            ["office", "state"],
            registry=registry,
        ),
        lane_paused=Gauge(
            "hub_lane_paused",
            "1 for why a paused office lane is paused, 0 for the other causes and when running.",
            ["office", "cause"],
            registry=registry,
        ),
        parked=Gauge(
            "hub_parked_deliveries",
            "Deliveries parked in the hub database for the office (a long hold, a paused vendor).",
            ["office"],
            registry=registry,
        ),
        queue_depth=Gauge(
            "hub_queue_depth",
            "Messages ready in the office's queue hub.office.<office>.",
            ["office"],
            registry=registry,
        ),
        dead_letter_depth=Gauge(
            "hub_dead_letter_depth",
            "Messages waiting in the dead-letter queue hub.dead.",
            registry=registry,
        ),
        in_flight=Gauge(
            "hub_intents_in_flight",
            "Deliveries the writer holds, not yet acked.",
            ["office"],
            registry=registry,
        ),
        event_loop_lag=Histogram(
            "hub_event_loop_lag_seconds",
            "How late the writer's event loop ran each heartbeat (a stall shows once it ends).",
            buckets=LOOP_LAG_BUCKETS_S,
            registry=registry,
        ),
        offices_owned=Gauge(
            "hub_offices_owned",
            "Offices this writer serves, its share among the live writers.",
            registry=registry,
        ),
        handovers=Counter(
            "hub_office_handovers",
            "Office queues this writer took (began serving) or gave (let go to another writer).",
            ["direction"],
            registry=registry,
        ),
    )


def _broker_metrics(registry: CollectorRegistry) -> BrokerInstruments:
    return BrokerInstruments(
        connection_closes=Counter(
            "hub_broker_connection_closes",
            "The writer's broker connection closed by the broker or lost, by the reply's name.",
            ["reply"],
            registry=registry,
        ),
        reconnects=Counter(
            "hub_broker_reconnects",
            "The writer's broker connection restored after a close or a loss.",
            registry=registry,
        ),
        channel_closes=Counter(
            "hub_broker_channel_closes",
            "The writer's channels closed by the broker, by channel, office and reply's name.",
            ["channel", "office", "reply"],
            registry=registry,
        ),
        consumer_cancels=Counter(
            "hub_broker_consumer_cancels",
            "The writer's consumers cancelled by the broker (e.g. their queue was deleted).",
            ["channel", "office"],
            registry=registry,
        ),
        redeliveries=Counter(
            "hub_broker_redeliveries",
            "Deliveries the broker had delivered before, on their first run in the writer.",
            ["office"],
            registry=registry,
        ),
    )


def _outbox_metrics(registry: CollectorRegistry) -> OutboxInstruments:
    return OutboxInstruments(
        kept=Counter(
            "hub_outcomes_kept",
            "Outcome events kept in the outbox: the broker refused them, or older ones waited.",
            ["vendor"],
            registry=registry,
        ),
        relayed=Counter(
            "hub_outcomes_relayed",
            "Outcome events the relay published from the outbox, confirmed by the broker.",
            ["vendor"],
            registry=registry,
        ),
        dropped=Counter(
            "hub_outcomes_dropped",
            "Outcome events dropped from the outbox undelivered, past the ledger's retention.",
            ["vendor"],
            registry=registry,
        ),
        waiting=Gauge(
            "hub_outcomes_waiting",
            "Outcome events waiting in the outbox for their vendor (the whole hub's).",
            ["vendor"],
            registry=registry,
        ),
        waiting_oldest=Gauge(
            "hub_outcomes_waiting_oldest_seconds",
            "Age of the vendor's oldest outcome event waiting in the outbox; 0 when none waits.",
            ["vendor"],
            registry=registry,
        ),
    )


def _watch_metrics(registry: CollectorRegistry) -> WatchInstruments:
    return WatchInstruments(
        scan_duration=Histogram(
            "hub_watch_scan_duration_seconds",
            "One scan query of hub watch on an office's Open Dental database, by table.",
            ["office", "table"],
            buckets=SQL_BUCKETS_S,
            registry=registry,
        ),
        scan_rows=Counter(
            "hub_watch_scan_rows",
            "Rows hub watch's scan queries read from an office's Open Dental database, by table.",
            ["office", "table"],
            registry=registry,
        ),
        changes=Counter(
            "hub_changes",
            "Changes of Open Dental rows hub watch attributed, by the door they came through "
            "(hub, open_dental_user, other_api, unexplained).",
            ["office", "door"],
            registry=registry,
        ),
        interval=Gauge(
            "hub_watch_interval_seconds",
            "hub watch's current wait between scans of the office (longer while its database "
            "is slow).",
            ["office"],
            registry=registry,
        ),
        events=Counter(
            "hub_watch_events",
            "Rows Open Dental's API Subscriptions pushed to hub watch, by what became of them "
            "(accepted, duplicate, unauthorized, invalid).",
            ["office", "disposition"],
            registry=registry,
        ),
    )
