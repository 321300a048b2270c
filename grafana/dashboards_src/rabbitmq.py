"""RabbitMQ's own metrics (its rabbitmq_prometheus plugin), for the hub's queues, and what the
broker did to the writer as the writer counts it (hub/observability/broker_events.py).

Per-queue series (``queue`` label) come from ``/metrics/per-object`` (or from ``/metrics`` with
``prometheus.return_per_object_metrics = true``); the compose stack's Prometheus scrapes the
former. Every name here exists in RabbitMQ 3.10 on both endpoints (tests/observability checks
them against the running broker).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from grafana.dashboards_src.panels import (
    RATE,
    PanelBuilder,
    Query,
    assemble,
    dashboard,
    graph,
    rate_sum,
    single,
)

UID = "hub-rabbitmq"
OFFICE_QUEUES = 'queue=~"hub[.]office[.].+"'


def _global(counter: str, legend: str) -> Query:
    return Query(rate_sum(f"rabbitmq_global_messages_{counter}_total"), legend)


def _per_office_queue(metric: str) -> Query:
    return Query(f"sum by (queue) ({metric}{{{OFFICE_QUEUES}}})", "{{queue}}")


def _clients() -> list[PanelBuilder]:
    return [
        single("Connections", "Open connections.", "none", Query("sum(rabbitmq_connections)")),
        single("Channels", "Open channels.", "none", Query("sum(rabbitmq_channels)")),
        single("Consumers", "Consumers on every queue.", "none", Query("sum(rabbitmq_consumers)")),
        single("Queues", "Declared queues.", "none", Query("sum(rabbitmq_queues)")),
    ]


def _queues() -> list[PanelBuilder]:
    return [
        graph("Office queues: ready", "Waiting for the writer, per office queue.", "none",
              _per_office_queue("rabbitmq_queue_messages_ready")),
        graph("Office queues: unacked", "Delivered to the writer, not yet acked.", "none",
              _per_office_queue("rabbitmq_queue_messages_unacked")),
        graph("Dead-letter queue", "Messages in hub.dead.", "none",
              Query('sum(rabbitmq_queue_messages{queue="hub.dead"})', "hub.dead")),
        graph("Consumers per office queue",
              "1 is right (single active consumer); 0: no writer serves the office.", "none",
              _per_office_queue("rabbitmq_queue_consumers")),
    ]  # fmt: skip


def _rates() -> list[PanelBuilder]:
    return [
        graph("Published, routed, delivered, acknowledged", "Messages per second.", "reqps",
              _global("received", "published"), _global("routed", "routed"),
              _global("delivered", "delivered"), _global("acknowledged", "acknowledged"),
              _global("confirmed", "confirmed")),
        graph("Dead-lettered by the broker, and unroutable",
              "Rejected or over the delivery limit; returned or dropped as unroutable.", "reqps",
              _global("dead_lettered_rejected", "dead-lettered: rejected"),
              _global("dead_lettered_delivery_limit", "dead-lettered: delivery limit"),
              _global("unroutable_returned", "unroutable: returned"),
              _global("unroutable_dropped", "unroutable: dropped")),
    ]  # fmt: skip


def _node() -> list[PanelBuilder]:
    return [
        graph("Memory", "Resident memory and the high watermark.", "bytes",
              Query("sum(rabbitmq_process_resident_memory_bytes)", "resident"),
              Query("sum(rabbitmq_resident_memory_limit_bytes)", "limit")),
        graph("Disk", "Free disk and the free-disk limit.", "bytes",
              Query("sum(rabbitmq_disk_space_available_bytes)", "available"),
              Query("sum(rabbitmq_disk_space_available_limit_bytes)", "limit")),
    ]  # fmt: skip


def _happened(metric: str, by: str, legend: str) -> Query:
    """How many times, not a rate: these events are few, and each one counts."""
    grouping = f" by ({by}) " if by else ""
    return Query(f"sum{grouping}(increase({metric}[{RATE}]))", legend)


def _writer_events() -> list[PanelBuilder]:
    return [
        graph("Closed by the broker",
              "The writer's channels and connection the broker closed (or that were lost), by "
              "reply. consumer_timeout: a delivery stayed unacked past the node's setting.",
              "none",
              _happened("hub_broker_channel_closes_total", "channel, reply",
                        "{{channel}} channel: {{reply}}"),
              _happened("hub_broker_connection_closes_total", "reply", "connection: {{reply}}"),
              _happened("hub_broker_reconnects_total", "", "reconnected")),
        graph("Redelivered and cancelled",
              "Messages the broker delivered again, per office; the writer's consumers it "
              "cancelled.", "none",
              _happened("hub_broker_redeliveries_total", "office", "redelivered: {{office}}"),
              _happened("hub_broker_consumer_cancels_total", "channel",
                        "{{channel}} consumer cancelled")),
    ]  # fmt: skip


def build() -> Dashboard:
    board = dashboard(UID, "RabbitMQ", "The broker under the hub: queues, clients, message rates.")
    sections = [
        ("Clients", _clients()),
        ("Hub queues", _queues()),
        ("Message rates", _rates()),
        ("The writer's broker events", _writer_events()),
        ("Node", _node()),
    ]
    return assemble(board, sections)
