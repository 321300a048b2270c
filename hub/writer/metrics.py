"""The writer's metrics, on a registry the composition root injects: one method per event.

Labels are bounded: office (from the registry), outcome and reason (enums), wrapper (code).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from hub.writer.verdict import Decision


class WriterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._decisions = Counter(
            "hub_writer_decisions",
            "Deliveries processed, by what was decided.",
            ["office", "outcome", "reason"],
            registry=registry,
        )
        self._seconds = Histogram(
            "hub_writer_process_seconds",
            "Time to process one delivery, holds excluded.",
            ["office"],
            registry=registry,
        )
        self._ack_failures = Counter(
            "hub_writer_ack_failures",
            "Acks and nacks the broker could not take (e.g. after a reconnect).",
            ["office"],
            registry=registry,
        )
        self._wrapper_errors = Counter(
            "hub_writer_wrapper_errors",
            "Errors inside a wrapper around process (the decision stood).",
            ["wrapper"],
            registry=registry,
        )

    def decided(self, decision: Decision, seconds: float) -> None:
        office = decision.about.office
        reason = "" if decision.reason is None else decision.reason.value
        self._decisions.labels(office, decision.outcome.value, reason).inc()
        self._seconds.labels(office).observe(seconds)

    def ack_failed(self, office: str) -> None:
        self._ack_failures.labels(office).inc()

    def wrapper_failed(self, wrapper: str) -> None:
        self._wrapper_errors.labels(wrapper).inc()
