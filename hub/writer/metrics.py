"""The writer's metrics, on a registry the composition root injects: one method per event.

Labels are bounded: office (from the registry), contract (served ones), outcome, reason, cause
and verdict (enums or class names in the code), wrapper and query (names in the code).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hub.writer.verdict import Decision

LANE_RUNNING, LANE_BACKING_OFF, LANE_PAUSED = "running", "backing_off", "paused"
LANE_STATES = (LANE_RUNNING, LANE_BACKING_OFF, LANE_PAUSED)


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
        self._retries = Counter(
            "hub_writer_retries",
            "Messages held to be tried again, by the cause (a retry's error class or a pause's).",
            ["office", "contract", "error_class"],
            registry=registry,
        )
        self._lane_pauses = Counter(
            "hub_writer_lane_pauses",
            "Holds of an office's lane for something not the intent's doing, by cause.",
            ["office", "cause"],
            registry=registry,
        )
        self._auth_failures = Counter(
            "hub_writer_auth_failures",
            "401s from Open Dental: the office's key is refused (alert).",
            ["office"],
            registry=registry,
        )
        self._reconciled = Counter(
            "hub_writer_reconciled",
            "Attempts in doubt reconciled against the office's database, by verdict.",
            ["office", "contract", "verdict"],
            registry=registry,
        )
        self._lane_state = Gauge(
            "hub_writer_lane_state",
            "What each office's lane does now (1 for its current state).",
            ["office", "state"],
            registry=registry,
        )
        self._od_sql = Histogram(
            "hub_writer_od_sql_seconds",
            "Read-only queries of Open Dental databases (reconciliation), by query and result.",
            ["query", "ok"],
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

    def retry(self, office: str, contract: str, error_class: str) -> None:
        self._retries.labels(office, contract, error_class).inc()

    def lane_paused(self, office: str, cause: str) -> None:
        self._lane_pauses.labels(office, cause).inc()
        self._set_lane_state(office, LANE_PAUSED)

    def lane_backing_off(self, office: str) -> None:
        self._set_lane_state(office, LANE_BACKING_OFF)

    def lane_running(self, office: str) -> None:
        self._set_lane_state(office, LANE_RUNNING)

    def auth_failure(self, office: str) -> None:
        self._auth_failures.labels(office).inc()

    def reconciled(self, office: str, contract: str, verdict: str) -> None:
        self._reconciled.labels(office, contract, verdict).inc()

    def od_sql_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        self._od_sql.labels(query_name, str(ok).lower()).observe(duration_s)

    def _set_lane_state(self, office: str, state: str) -> None:
        for each in LANE_STATES:
            self._lane_state.labels(office, each).set(int(each == state))


class OdSqlObserver:
    """``ReadOnlyDatabase``'s query observer, onto ``WriterMetrics.od_sql_query``."""

    def __init__(self, metrics: WriterMetrics) -> None:
        self._metrics = metrics

    def on_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        self._metrics.od_sql_query(query_name, duration_s, ok)
