"""The writer's events, one method each, fed to the hub's metrics catalogue (``HubMetrics``,
hub/observability: the only metric names) and to the lanes' board (``hub status``, lane state).

Labels stay bounded: the catalogue maps any value outside its sets to ``unknown``/``other``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from hub.observability import ErrorClass, HubMetrics, IntentOutcome, LaneState
from hub.observability.broker_events import BrokerEvents
from hub.opendental import ApiCall
from hub.writer.apis import OfficeApis, OnCall
from hub.writer.calls import OpenDentalWrites
from hub.writer.delivery import Delivery
from hub.writer.verdict import Decision, HoldCause, Outcome

log = logging.getLogger(__name__)

DELIVERY_COUNT = "x-delivery-count"  # a quorum queue's count of a message's earlier deliveries

FINISHED: Mapping[Outcome, IntentOutcome] = {
    Outcome.APPLIED: IntentOutcome.APPLIED,
    Outcome.DUPLICATE: IntentOutcome.DUPLICATE,
    Outcome.REJECTED: IntentOutcome.REJECTED,
    Outcome.DEAD: IntentOutcome.DEAD,
}
# A hold's cause as a retry's error class; a 401 is no retry (hub_od_auth_failures_total).
RETRY_CLASSES: Mapping[HoldCause, ErrorClass] = {
    HoldCause.THROTTLED: ErrorClass.THROTTLED,
    HoldCause.MAYBE_APPLIED: ErrorClass.MAYBE_APPLIED,
    HoldCause.TIMEOUT: ErrorClass.TIMEOUT,
    HoldCause.TRANSIENT: ErrorClass.TRANSIENT,
    HoldCause.OPEN_DENTAL_DOWN: ErrorClass.OPEN_DENTAL_DOWN,
    HoldCause.HUB: ErrorClass.HUB,
    HoldCause.RECONCILE_UNAVAILABLE: ErrorClass.RECONCILE_UNAVAILABLE,
    HoldCause.CRASHED: ErrorClass.CRASHED,
}


class LaneReports(Protocol):
    """Where each lane's state and last error are shown (hub/control's board)."""

    def state(self, office: str, state: LaneState, cause: str | None = None) -> None: ...

    def error(self, office: str, code: str) -> None: ...


class WriterMetrics:
    def __init__(self, metrics: HubMetrics, lanes: LaneReports) -> None:
        self._metrics = metrics
        self._lanes = lanes
        self.broker = BrokerEvents(metrics)  # watches the connection and channels it is shown

    def redelivered(self, delivery: Delivery) -> None:
        """Called on each run; counts a redelivered message once, on its first run (a held
        message's re-runs in place are the lane's, not the broker's)."""
        if delivery.redelivered and delivery.held == 0:
            count = delivery.properties.headers.get(DELIVERY_COUNT)
            self.broker.redelivered(delivery.office, count if isinstance(count, int) else None)

    def decided(self, delivery: Delivery, decision: Decision, seconds: float) -> None:
        """One run of the pipeline on a delivery; a held delivery's re-runs are not received
        again."""
        about, m = decision.about, self._metrics
        vendor, contract = about.vendor or delivery.user_id or "", about.contract or ""
        if delivery.held == 0:
            m.intent_received(vendor, about.office, contract)
        m.processing(about.office, contract, seconds)
        finished = FINISHED.get(decision.outcome)
        if finished is not None:
            m.intent_finished(vendor, about.office, contract, finished, decision.reason)
        if decision.outcome is Outcome.APPLIED and delivery.properties.timestamp is not None:
            m.publish_to_applied(about.office, _age_s(delivery.properties.timestamp))
        if finished in (IntentOutcome.REJECTED, IntentOutcome.DEAD):
            self._lanes.error(about.office, _code(decision))

    def retry(self, office: str, contract: str, error_class: str) -> None:
        """A held message, by its hold's cause (``HoldCause``); a 401 is not counted here."""
        retry_class = RETRY_CLASSES.get(HoldCause(error_class))
        if retry_class is not None:
            self._metrics.retry(office, contract, retry_class)
            self._lanes.error(office, f"retry: {error_class}")

    def lane_paused(self, office: str, cause: str) -> None:
        self._lanes.state(office, LaneState.PAUSED, cause)
        self._lanes.error(office, f"paused: {cause}")

    def lane_backing_off(self, office: str) -> None:
        self._lanes.state(office, LaneState.BACKING_OFF)

    def lane_running(self, office: str) -> None:
        self._lanes.state(office, LaneState.RUNNING)

    def auth_failure(self, office: str) -> None:
        """Counted already, from the 401 reply itself (``od_call``)."""

    def reconciled(self, office: str, contract: str, verdict: str) -> None:
        self._metrics.reconciled(office, contract, verdict)

    def od_sql_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        self._metrics.od_sql_query(query_name, duration_s, ok)

    def od_call(self, office: str, call: ApiCall) -> None:
        """One Open Dental request and the pacer's wait before it."""
        self._metrics.od_call(office, call)

    def ack_failed(self, office: str) -> None:
        self._metrics.ack_failure(office)

    def wrapper_failed(self, wrapper: str) -> None:
        self._metrics.wrapper_error(wrapper)


class MeasuredOfficeApis:
    """``OfficeApis`` whose every request is also measured (request, status class, pacing)."""

    def __init__(self, apis: OfficeApis, metrics: WriterMetrics) -> None:
        self._apis = apis
        self._metrics = metrics

    def writes_for(self, office: str, on_call: OnCall) -> OpenDentalWrites:
        def both(call: ApiCall) -> None:
            on_call(call)  # the ledger's record first: it must never miss a call
            try:
                self._metrics.od_call(office, call)
            except Exception:  # a metric must not fail the attempt
                log.exception("measuring an Open Dental request failed")
                self._metrics.wrapper_failed("od_calls")

        return self._apis.writes_for(office, both)


class OdSqlObserver:
    """``ReadOnlyDatabase``'s query observer, onto ``WriterMetrics.od_sql_query``."""

    def __init__(self, metrics: WriterMetrics) -> None:
        self._metrics = metrics

    def on_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        self._metrics.od_sql_query(query_name, duration_s, ok)


def _age_s(published_at: datetime) -> float:
    """Since the publish; a naive AMQP timestamp is UTC, and a clock ahead counts as 0."""
    aware = published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - aware).total_seconds())


def _code(decision: Decision) -> str:
    """A lane's last error for ``hub status``: outcome and reason codes, never a message."""
    reason = "" if decision.reason is None else f": {decision.reason.value}"
    return f"{decision.outcome.value}{reason}"
