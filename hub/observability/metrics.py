"""The hub's metrics catalogue: one named method per event, on an injected registry.

Every label value comes from a bounded set (hub/observability/labels.py); none is an id.

=====================================  =========  =========================================
Metric                                 Type       Labels (values)
=====================================  =========  =========================================
hub_intents_received_total             counter    vendor, office, contract
hub_intents_finished_total             counter    vendor, office, contract, outcome, reason
hub_publish_to_applied_seconds         histogram  office
hub_processing_seconds                 histogram  office, contract
hub_retries_total                      counter    office, contract, error_class
hub_reconciliations_total              counter    office, contract, verdict
hub_ack_failures_total                 counter    office
hub_wrapper_errors_total               counter    wrapper
hub_intents_unauthenticated_total      counter    office
hub_dead_letters_expired_total         counter    office, vendor
hub_intents_deprecated_total           counter    vendor, contract, version
hub_od_requests_total                  counter    operation, office, status_class
hub_od_request_duration_seconds        histogram  operation, office
hub_od_auth_failures_total             counter    office
hub_pacer_wait_seconds                 histogram  office
hub_pacer_backoff_seconds              gauge      office
hub_ledger_query_duration_seconds      histogram  query
hub_od_sql_query_duration_seconds      histogram  query, result
hub_lane_state                         gauge      office, state
hub_lane_paused                        gauge      office, cause
hub_parked_deliveries                  gauge      office
hub_queue_depth                        gauge      office
hub_dead_letter_depth                  gauge      (none)
hub_intents_in_flight                  gauge      office
hub_offices_owned                      gauge      (none)
hub_office_handovers_total             counter    direction
hub_broker_connection_closes_total     counter    reply
hub_broker_reconnects_total            counter    (none)
hub_broker_channel_closes_total        counter    channel, office, reply
hub_broker_consumer_cancels_total      counter    channel, office
hub_broker_redeliveries_total          counter    office
hub_event_loop_lag_seconds             histogram  (none)
hub_outcomes_kept_total                counter    vendor
hub_outcomes_relayed_total             counter    vendor
hub_outcomes_dropped_total             counter    vendor
hub_outcomes_waiting                   gauge      vendor
hub_outcomes_waiting_oldest_seconds    gauge      vendor
hub_watch_scan_duration_seconds        histogram  office, table
hub_watch_scan_rows_total              counter    office, table
hub_changes_total                      counter    office, door
hub_watch_interval_seconds             gauge      office
hub_watch_events_total                 counter    office, disposition
=====================================  =========  =========================================

Label values:

- ``vendor``, ``office``: the registry's vendors and offices, else ``unknown``.
- ``contract``: the seven v1 contracts (``patient.create`` …), else ``unknown``.
- ``version``: a deprecated version of that contract (``deprecated_versions``), else
  ``unknown``.
- ``outcome``: an ``OutcomeStatus`` (``applied``, ``rejected``, ``dead``), or ``duplicate`` for
  an intent decided before (``outcome_label``).
- ``reason``: ``none`` when applied or a duplicate, else the outcome reason's code
  (``invalid``, ``unauthorized``, ``idempotency_conflict``, ``od_rejected``,
  ``retries_exhausted``, ``needs_reconcile``, ``ambiguous``, ``writer_failed``), else ``other``.
- ``error_class``: ``throttled``, ``maybe_applied``, ``transient``, ``timeout``,
  ``open_dental_down``, ``hub``, ``reconcile_unavailable``, ``crashed``, ``other``.
- ``verdict``: ``found``, ``not_found``, ``safe_to_resend``, ``ambiguous``, ``other``.
- ``operation``: the Open Dental request as ``METHOD /path`` with ids as ``{id}``
  (``POST /patients``, ``PUT /appointments/{id}/Confirm`` …; ``OD_OPERATIONS``), else ``other``.
- ``status_class``: ``2xx``, ``3xx``, ``401``, ``429``, ``4xx``, ``5xx``, ``none`` (no reply).
- ``state``: ``running``, ``backing_off``, ``paused``.
- ``direction``: ``taken`` (the writer began serving the office), ``given`` (it let the office
  go to another writer).
- ``cause``: ``auth``, ``open_dental_down``, ``reconcile_unavailable``, ``hub``, ``operator``,
  ``other`` (``PauseCause``).
- ``wrapper``: which report failed, a constant name in the code (``log``, ``measure``,
  ``lane``, ``od_calls``, ``liveness``), capped. (The name is older than the writer's shape.)
- ``query``: the statement's constant name in the code (``claim.upsert``,
  ``reconcile_patient`` …), at most 100 names, else ``other``; ``result``: ``ok``, ``error``.
- ``channel``: ``consume``, ``publish``; with ``office`` the channel's office, or ``shared`` for
  a channel that serves every office.
- ``reply``: the broker's AMQP reply code by name (``precondition_failed``, ``access_refused``,
  ``not_found``, ``connection_forced`` … ``BrokerReply``); ``consumer_timeout`` for the 406 of a
  delivery left unacked past the node's ``consumer_timeout``; ``lost`` when no close came (the
  TCP connection dropped); ``other``.
- ``table`` (the watch's): an Open Dental table the hub writes (``patient``, ``appointment``,
  ``commlog``, ``payment``, ``document``, ``patfield``, ``allergy``, ``medicationpat``,
  ``disease``), else ``other``; ``door``: ``hub``, ``open_dental_user``, ``other_api``,
  ``unexplained``, else ``other``; ``disposition`` (of an event's row): ``accepted``, ``duplicate``,
  ``unauthorized``, ``invalid``, else ``other``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry

from contracts.outcome import OutcomeReason, OutcomeStatus
from contracts.registry import deprecated_versions
from hub.observability.catalogue import declare
from hub.observability.labels import (
    MAX_WRAPPER_NAMES,
    OD_OPERATIONS,
    OTHER,
    SHARED,
    UNKNOWN,
    BrokerReply,
    ChannelRole,
    ErrorClass,
    LabelBounds,
    LaneState,
    PauseCause,
    QueryNames,
    Reconciled,
    SqlResult,
    StatusClass,
    od_operation,
    outcome_label,
    reason_label,
)
from hub.opendental.reconcile_queries import OdTable
from hub.opendental.results import ApiCall
from hub.outbox import Waiting

# The watch's label sets (hub/watch/model.py's Door; the receiver's outcomes).
WATCH_TABLES = frozenset(table.value for table in OdTable)
WATCH_DOORS = frozenset({"hub", "open_dental_user", "other_api", "unexplained"})
WATCH_DISPOSITIONS = frozenset({"accepted", "duplicate", "unauthorized", "invalid"})


HANDOVER_DIRECTIONS = ("taken", "given")  # began serving an office; let one go

class HubMetrics:
    """Every event the hub counts or times. Methods never raise on a label value: an unknown
    one is mapped to ``unknown``/``other``."""

    def __init__(self, registry: CollectorRegistry, bounds: LabelBounds) -> None:
        self._m = declare(registry)
        self._bounds = bounds
        self._deprecated = frozenset(deprecated_versions())  # the version label's bounded set
        self._query_names = QueryNames()
        self._wrapper_names = QueryNames(cap=MAX_WRAPPER_NAMES)
        self._prime()

    # Intents -------------------------------------------------------------------------------

    def intent_received(self, vendor: str, office: str, contract: str) -> None:
        b = self._bounds
        self._m.intents.received.labels(
            b.vendor(vendor), b.office(office), b.contract(contract)
        ).inc()

    def intent_finished(
        self,
        vendor: str,
        office: str,
        contract: str,
        status: OutcomeStatus,
        reason: OutcomeReason | None = None,
        *,
        duplicate: bool = False,
    ) -> None:
        b = self._bounds
        labels = (b.vendor(vendor), b.office(office), b.contract(contract))
        outcome = outcome_label(status, duplicate=duplicate)
        self._m.intents.finished.labels(*labels, outcome, reason_label(reason)).inc()

    def intent_deprecated(self, vendor: str, contract: str, version: int) -> None:
        """An intent of a deprecated (contract, version) was received."""
        b = self._bounds
        known = (contract, version) in self._deprecated
        labels = (b.vendor(vendor), b.contract(contract), str(version) if known else UNKNOWN)
        self._m.intents.deprecated.labels(*labels).inc()

    def publish_to_applied(self, office: str, seconds: float) -> None:
        """An applied intent's age when Open Dental answered: from the vendor's publish."""
        self._m.intents.publish_to_applied.labels(self._bounds.office(office)).observe(seconds)

    def processing(self, office: str, contract: str, seconds: float) -> None:
        b = self._bounds
        self._m.intents.processing.labels(b.office(office), b.contract(contract)).observe(seconds)

    def retry(self, office: str, contract: str, error_class: ErrorClass) -> None:
        b = self._bounds
        labels = (b.office(office), b.contract(contract), error_class.value)
        self._m.intents.retries.labels(*labels).inc()

    def reconciled(self, office: str, contract: str, verdict: str) -> None:
        """An attempt in doubt was looked up; ``verdict`` is hub/reconcile's verdict's name."""
        b = self._bounds
        labels = (b.office(office), b.contract(contract), Reconciled.of(verdict).value)
        self._m.intents.reconciliations.labels(*labels).inc()

    def ack_failure(self, office: str) -> None:
        self._m.intents.ack_failures.labels(self._bounds.office(office)).inc()

    def unauthenticated(self, office: str) -> None:
        """A message without user_id: dead-lettered, and its vendor cannot be told."""
        self._m.intents.unauthenticated.labels(self._bounds.office(office)).inc()

    def dead_letter_expired(self, office: str, vendor: str) -> None:
        """A dead letter outlived hub.dead's retention and its expiry was recorded."""
        b = self._bounds
        self._m.intents.dead_letters_expired.labels(b.office(office), b.vendor(vendor)).inc()

    def wrapper_error(self, wrapper: str) -> None:
        """Reporting a run failed (``wrapper`` names which report); the decision stood."""
        self._m.intents.wrapper_errors.labels(self._wrapper_names(wrapper)).inc()

    # Open Dental, the pacer and the databases ------------------------------------------------

    def od_request(
        self, operation: str, office: str, status_class: StatusClass, seconds: float
    ) -> None:
        """One Open Dental request; a 401 also counts in ``hub_od_auth_failures_total``."""
        deps, op = self._m.dependencies, operation if operation in OD_OPERATIONS else OTHER
        office_label = self._bounds.office(office)
        deps.od_requests.labels(op, office_label, status_class.value).inc()
        deps.od_request_duration.labels(op, office_label).observe(seconds)
        if status_class is StatusClass.UNAUTHORIZED:
            deps.od_auth_failures.labels(office_label).inc()

    def od_call(self, office: str, call: ApiCall) -> None:
        """One attempt reported by the Open Dental client (its ``on_call``): the request, and
        the pacer's wait before it. Do not also call ``pacer_wait`` for the same request."""
        operation = od_operation(call.method, call.path)
        self.od_request(operation, office, StatusClass.of(call.status), call.latency_s)
        self.pacer_wait(office, call.paced_s)

    def od_call_observer(self, office: str) -> Callable[[ApiCall], None]:
        """The ``on_call`` hook for one office's ``OpenDentalClient``."""
        return lambda call: self.od_call(office, call)

    def pacer_wait(self, office: str, seconds: float) -> None:
        self._m.dependencies.pacer_wait.labels(self._bounds.office(office)).observe(seconds)

    def pacer_backoff(self, office: str, seconds: float) -> None:
        """Fits ``KeyPacer``'s ``on_backoff``: the back-off of the office's customer key."""
        self._m.dependencies.pacer_backoff.labels(self._bounds.office(office)).set(seconds)

    def ledger_query(self, name: str, duration_s: float) -> None:
        """Fits the ledger's ``QueryObserver``: pass ``metrics.ledger_query``."""
        self._m.dependencies.ledger_query.labels(self._query_names(name)).observe(duration_s)

    def od_sql_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        result = SqlResult.OK if ok else SqlResult.ERROR
        labels = (self._query_names(query_name), result.value)
        self._m.dependencies.od_sql_query.labels(*labels).observe(duration_s)

    def od_sql_observer(self) -> OdSqlObserver:
        """The ``observer`` for ``ReadOnlyDatabase``."""
        return OdSqlObserver(self)

    # State -----------------------------------------------------------------------------------

    def lane_state(self, office: str, state: LaneState) -> None:
        office_label = self._bounds.office(office)
        for each in LaneState:
            self._m.state.lane_state.labels(office_label, each.value).set(int(each is state))

    def lane_pause_cause(self, office: str, cause: PauseCause | None) -> None:
        """Why the lane is paused (None: it is not)."""
        office_label = self._bounds.office(office)
        for each in PauseCause:
            self._m.state.lane_paused.labels(office_label, each.value).set(int(each is cause))

    def parked(self, counts: Mapping[str, int]) -> None:
        """Every office's parked deliveries, as the hub database counts them now."""
        for office in self._bounds.offices:
            self._m.state.parked.labels(office).set(counts.get(office, 0))

    def queue_depth(self, office: str, n: int) -> None:
        self._m.state.queue_depth.labels(self._bounds.office(office)).set(n)

    def dead_letter_depth(self, n: int) -> None:
        self._m.state.dead_letter_depth.set(n)

    def in_flight(self, office: str, delta: int) -> None:
        self._m.state.in_flight.labels(self._bounds.office(office)).inc(delta)

    def offices_owned(self, count: int) -> None:
        """How many offices this writer serves, as its last view of the live writers shares
        them out."""
        self._m.state.offices_owned.set(count)

    def handover(self, taken: bool) -> None:
        """The writer began serving an office (``taken``) or let one go to another writer."""
        self._m.state.handovers.labels(HANDOVER_DIRECTIONS[0 if taken else 1]).inc()

    # The broker ---------------------------------------------------------------------------------

    def broker_connection_closed(self, reply: BrokerReply) -> None:
        self._m.broker.connection_closes.labels(reply.value).inc()

    def broker_reconnected(self) -> None:
        self._m.broker.reconnects.labels().inc()

    def broker_channel_closed(
        self, channel: ChannelRole, office: str | None, reply: BrokerReply
    ) -> None:
        """``office`` None: a channel every office shares."""
        labels = (channel.value, self._channel_office(office), reply.value)
        self._m.broker.channel_closes.labels(*labels).inc()

    def broker_consumer_cancelled(self, channel: ChannelRole, office: str | None) -> None:
        labels = (channel.value, self._channel_office(office))
        self._m.broker.consumer_cancels.labels(*labels).inc()

    def broker_redelivered(self, office: str) -> None:
        self._m.broker.redeliveries.labels(self._bounds.office(office)).inc()

    def _channel_office(self, office: str | None) -> str:
        return SHARED if office is None else self._bounds.office(office)

    def loop_lag(self, seconds: float) -> None:
        """How late the writer's event loop ran a heartbeat (hub/observability/liveness.py)."""
        self._m.state.event_loop_lag.labels().observe(seconds)

    # The outbox of outcome events ---------------------------------------------------------------

    def outcome_kept(self, vendor: str) -> None:
        self._m.outbox.kept.labels(self._bounds.vendor(vendor)).inc()

    def outcome_relayed(self, vendor: str) -> None:
        self._m.outbox.relayed.labels(self._bounds.vendor(vendor)).inc()

    def outcome_dropped(self, vendor: str) -> None:
        self._m.outbox.dropped.labels(self._bounds.vendor(vendor)).inc()

    def outcomes_waiting(self, waiting: Iterable[Waiting]) -> None:
        """The whole outbox as just counted: a vendor not in ``waiting`` has none waiting."""
        counts = dict.fromkeys([*self._bounds.vendors, UNKNOWN], 0)
        oldest_s = dict.fromkeys(counts, 0.0)
        for each in waiting:
            label = self._bounds.vendor(each.vendor)
            counts[label] += each.count
            oldest_s[label] = max(oldest_s[label], each.oldest_s)
        for label, count in counts.items():
            self._m.outbox.waiting.labels(label).set(count)
            self._m.outbox.waiting_oldest.labels(label).set(oldest_s[label])

    # hub watch ----------------------------------------------------------------------------------

    def watch_scan(self, office: str, table: str, duration_s: float, rows: int) -> None:
        """One scan query of an office's table and the rows it read."""
        labels = (self._bounds.office(office), table if table in WATCH_TABLES else OTHER)
        self._m.watch.scan_duration.labels(*labels).observe(duration_s)
        self._m.watch.scan_rows.labels(*labels).inc(rows)

    def watch_change(self, office: str, door: str) -> None:
        """One change attributed to ``door``."""
        labels = (self._bounds.office(office), door if door in WATCH_DOORS else OTHER)
        self._m.watch.changes.labels(*labels).inc()

    def watch_interval(self, office: str, interval_s: float) -> None:
        self._m.watch.interval.labels(self._bounds.office(office)).set(interval_s)

    def watch_event(self, office: str, disposition: str) -> None:
        """One row an Open Dental event pushed, by what became of it."""
        known = disposition in WATCH_DISPOSITIONS
        labels = (self._bounds.office(office), disposition if known else OTHER)
        self._m.watch.events.labels(*labels).inc()

    # ------------------------------------------------------------------------------------------

    def _prime(self) -> None:
        """Create the series every office and agreement will have, at zero, so dashboards and
        ``increase()`` see a series from the first scrape instead of from the first event."""
        intents, deps, state = self._m.intents, self._m.dependencies, self._m.state
        self._prime_broker()
        for vendor in sorted(self._bounds.vendors):
            for family in (self._m.outbox.kept, self._m.outbox.relayed, self._m.outbox.dropped,
                           self._m.outbox.waiting, self._m.outbox.waiting_oldest):
                family.labels(vendor)
        for office in sorted(self._bounds.offices):
            intents.publish_to_applied.labels(office)
            deps.pacer_wait.labels(office)
            deps.pacer_backoff.labels(office)
            deps.od_auth_failures.labels(office)
            intents.unauthenticated.labels(office)
            state.in_flight.labels(office)
            for each in LaneState:
                state.lane_state.labels(office, each.value)
            for cause in PauseCause:
                state.lane_paused.labels(office, cause.value)
            state.parked.labels(office)
        for vendor, office in sorted({(v, o) for v, o, _ in self._bounds.agreements}):
            intents.dead_letters_expired.labels(office, vendor)
        for direction in HANDOVER_DIRECTIONS:
            state.handovers.labels(direction)
        self._prime_watch()
        self._prime_deprecated()
        for vendor, office, contract in sorted(self._bounds.agreements):
            intents.received.labels(vendor, office, contract)
            intents.finished.labels(
                vendor, office, contract, OutcomeStatus.APPLIED.value, reason_label(None)
            )
            intents.processing.labels(office, contract)
            for error_class in ErrorClass:
                intents.retries.labels(office, contract, error_class.value)

    def _prime_watch(self) -> None:
        """Every office's changes per door at zero, so the unexplained-changes alert and the
        panel see a series before the first change."""
        for office in sorted(self._bounds.offices):
            for door in sorted(WATCH_DOORS):
                self._m.watch.changes.labels(office, door)

    def _prime_deprecated(self) -> None:
        """A series per vendor and deprecated version of a contract it has an agreement for."""
        agreed = {(vendor, contract) for vendor, _, contract in self._bounds.agreements}
        for vendor, contract in sorted(agreed):
            for version in sorted(n for name, n in self._deprecated if name == contract):
                self._m.intents.deprecated.labels(vendor, contract, str(version))

    def _prime_broker(self) -> None:
        """The series the alert and the dashboards read: the shared channels', each office's
        (its lane's channel), and the closes that matter most."""
        broker = self._m.broker
        for reply in (BrokerReply.CONNECTION_FORCED, BrokerReply.LOST):
            broker.connection_closes.labels(reply.value)
        for channel, office in [(role.value, SHARED) for role in ChannelRole] + [
            (ChannelRole.CONSUME.value, office) for office in sorted(self._bounds.offices)
        ]:
            broker.consumer_cancels.labels(channel, office)
            for reply in (BrokerReply.PRECONDITION_FAILED, BrokerReply.CONSUMER_TIMEOUT):
                broker.channel_closes.labels(channel, office, reply.value)
        for office in sorted(self._bounds.offices):
            broker.redeliveries.labels(office)


class OdSqlObserver:
    """Adapts ``HubMetrics.od_sql_query`` to ``ReadOnlyDatabase``'s ``QueryObserver``."""

    def __init__(self, metrics: HubMetrics) -> None:
        self._metrics = metrics

    def on_query(self, query_name: str, duration_s: float, ok: bool) -> None:
        self._metrics.od_sql_query(query_name, duration_s, ok)
