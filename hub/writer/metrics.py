"""The writer's events, one method each, fed to the hub's metrics catalogue (``HubMetrics``,
hub/observability: the only metric names) and to the lanes' board (``hub status``, lane state).

Labels stay bounded: the catalogue maps any value outside its sets to ``unknown``/``other``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from contracts import OutcomeReason, OutcomeStatus, deprecation_of
from hub.observability import ErrorClass, HubMetrics, LaneState
from hub.observability.broker_events import BrokerEvents
from hub.opendental import ApiCall
from hub.writer.application import OfficeApis, OnCall, OpenDentalWrites
from hub.writer.decisions import UNKNOWN_CONTRACT, Decision, Final, HoldCause, IntentIdentity
from hub.writer.office_queue import Delivery

log = logging.getLogger(__name__)

DELIVERY_COUNT = "x-delivery-count"  # a quorum queue's count of a message's earlier deliveries

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
        again. A final decision is counted by its outcome (``applied``, ``rejected``, ``dead``,
        or ``duplicate``), a hold by its cause."""
        identity, m = decision.intent, self._metrics
        vendor, contract = identity.vendor or delivery.user_id or "", identity.contract or ""
        if delivery.held == 0:
            m.intent_received(vendor, identity.office, contract)
            self._deprecated(vendor, identity)
        m.processing(identity.office, contract, seconds)
        if not isinstance(decision, Final):
            self.retry(identity.office, identity.contract or UNKNOWN_CONTRACT, decision.cause)
            return
        m.intent_finished(
            vendor, identity.office, contract, decision.status, decision.reason,
            duplicate=decision.duplicate,
        )
        applied = decision.status is OutcomeStatus.APPLIED and not decision.duplicate
        if applied and delivery.properties.timestamp is not None:
            m.publish_to_applied(identity.office, _age_s(delivery.properties.timestamp))
        if decision.dead_lettered:
            self._lanes.error(identity.office, _code(decision))
        if decision.reason is OutcomeReason.UNAUTHENTICATED:
            m.unauthenticated(identity.office)

    def _deprecated(self, vendor: str, identity: IntentIdentity) -> None:
        # Counted once per delivery, as received: who still sends a version before its sunset.
        version = identity.version
        if version is not None and deprecation_of(identity.contract, version) is not None:
            self._metrics.intent_deprecated(vendor, identity.contract or "", version)

    def retry(self, office: str, contract: str, cause: HoldCause) -> None:
        """A held message, by its hold's cause; a 401 is not counted here."""
        retry_class = RETRY_CLASSES.get(cause)
        if retry_class is not None:
            self._metrics.retry(office, contract, retry_class)
            self._lanes.error(office, f"retry: {cause.value}")

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

    def pacer_backoff(self, office: str, seconds: float) -> None:
        """The pacer's back-off of the office's customer key moved (throttle replies)."""
        self._metrics.pacer_backoff(office, seconds)

    def handover(self, office: str, *, taken: bool) -> None:
        """The office came to this writer (``taken``) or went to another."""
        self._metrics.handover(taken)

    def ack_failed(self, office: str) -> None:
        self._metrics.ack_failure(office)

    def report_failed(self, report: str) -> None:
        """A log line, a metric or a lane state could not be reported; the decision stood."""
        self._metrics.wrapper_error(report)


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
                self._metrics.report_failed("od_calls")

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


def _code(final: Final) -> str:
    """A lane's last error for ``hub status``: outcome and reason codes, never a message."""
    reason = "" if final.reason is None else f": {final.reason.value}"
    return f"{final.status.value}{reason}"
