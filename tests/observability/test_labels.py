"""Label values stay within documented, bounded sets; no metric takes an id."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from contracts import OutcomeStatus, deprecated_versions
from contracts.outcome import OutcomeReason
from hub.observability import OUTCOME_LABELS, HubMetrics, StatusClass, od_operation
from hub.observability import metrics as metrics_module
from hub.observability.labels import (
    OD_OPERATIONS,
    BrokerReply,
    ChannelRole,
    ErrorClass,
    LaneState,
    PauseCause,
    QueryNames,
    Reconciled,
)
from hub.observability.metrics import (
    HANDOVER_DIRECTIONS,
    WATCH_DISPOSITIONS,
    WATCH_DOORS,
    WATCH_TABLES,
)
from hub.registry import V1_CONTRACTS
from tests.observability.conftest import BOUNDS

# Every label name the catalogue may use, and the values each may take beyond the registry's.
ALLOWED_LABELS = {
    "cause",
    "direction",
    "vendor",
    "office",
    "contract",
    "outcome",
    "reason",
    "operation",
    "status_class",
    "error_class",
    "state",
    "query",
    "result",
    "wrapper",
    "verdict",
    "channel",
    "reply",
    "version",
    "table",
    "door",
    "disposition",
    "le",
}
ID_LIKE = ("id", "key", "num", "patient", "intent", "idempotency")


def _series(registry: CollectorRegistry) -> list[tuple[str, dict[str, str]]]:
    return [
        (sample.name, dict(sample.labels))
        for family in registry.collect()
        for sample in family.samples
    ]


def _drive_with_hostile_values(metrics: HubMetrics, n: int) -> None:
    """Every method, fed values a buggy caller might pass: ids, keys, patient names."""
    for i in range(n):
        vendor, office, contract = f"vendor-{i}", f"office-{i + 10}", f"contract.{i}"
        metrics.intent_received(vendor, office, contract)
        metrics.intent_deprecated(vendor, contract, 1000 + i)
        metrics.intent_finished(
            vendor, office, contract, OutcomeStatus.DEAD, OutcomeReason.AMBIGUOUS
        )
        metrics.publish_to_applied(office, 1.0)
        metrics.processing(office, contract, 1.0)
        metrics.od_request(f"GET /patients/{i}?LName=Lovelace", office, StatusClass.OK, 0.1)
        metrics.pacer_wait(office, 0.0)
        metrics.retry(office, contract, ErrorClass.OTHER)
        metrics.reconciled(office, contract, f"Found patient {i}")
        metrics.lane_state(office, LaneState.PAUSED)
        metrics.lane_pause_cause(office, PauseCause.of(f"Lovelace {i}"))
        metrics.parked({office: i, f"Patient {i}": 1})
        metrics.queue_depth(office, i)
        metrics.in_flight(office, 1)
        metrics.offices_owned(i)
        metrics.handover(taken=i % 2 == 0)
        metrics.ack_failure(office)
        metrics.wrapper_error(f"Wrapper {i}")
        metrics.ledger_query(f"SELECT * FROM intent WHERE id={i}", 0.001)
        metrics.od_sql_query(f"Patient {i} lookup", 0.001, True)
        metrics.broker_connection_closed(BrokerReply.LOST)
        metrics.broker_reconnected()
        metrics.broker_channel_closed(ChannelRole.CONSUME, office, BrokerReply.CONSUMER_TIMEOUT)
        hostile_reply = BrokerReply.of(1000 + i, f"Lovelace {i}")
        metrics.broker_channel_closed(ChannelRole.PUBLISH, None, hostile_reply)
        metrics.broker_consumer_cancelled(ChannelRole.CONSUME, office)
        metrics.broker_redelivered(office)
        metrics.watch_scan(office, f"patient WHERE PatNum={i}", 0.01, i)
        metrics.watch_change(office, f"Lovelace {i}")
        metrics.watch_interval(office, 30.0)
        metrics.watch_event(office, f"Patient {i}")


def test_unknown_vendors_offices_and_contracts_become_unknown() -> None:
    # Given bounds from a registry of two vendors and two offices
    # When values outside them are labelled, Then they read "unknown"
    assert BOUNDS.vendor("acme") == "acme"
    assert BOUNDS.vendor("mallory") == "unknown"
    assert BOUNDS.office("office-9") == "unknown"
    assert BOUNDS.office(None) == "unknown"
    assert BOUNDS.contract("patient.delete") == "unknown"
    assert BOUNDS.contracts == V1_CONTRACTS


def test_od_operations_are_templates_and_anything_else_is_other() -> None:
    # Given request paths as the client reports them
    # Then ids become {id} and only known operations pass
    assert od_operation("put", "/appointments/12/Break") == "PUT /appointments/{id}/Break"
    assert od_operation("GET", "/patients/99") == "GET /patients/{id}"
    assert od_operation("GET", "/patients/Simple?LName=Lovelace") == "GET /patients/Simple"
    assert od_operation("DELETE", "/patients/1") == "other"
    assert od_operation("GET", "/patients/Lovelace") == "other"
    assert not any(char.isdigit() for op in OD_OPERATIONS for char in op)


def test_status_classes() -> None:
    # Given Open Dental's replies, Then each status falls in one class
    classes = [StatusClass.of(s).value for s in (200, 201, 302, 400, 401, 404, 429, 500, 504)]
    assert classes == ["2xx", "2xx", "3xx", "4xx", "401", "4xx", "429", "5xx", "5xx"]
    assert StatusClass.of(None) is StatusClass.NO_RESPONSE
    assert StatusClass.of(999) is StatusClass.NO_RESPONSE


def test_query_names_must_look_like_code_and_are_capped() -> None:
    # Given an admission of at most two names
    names = QueryNames(cap=2)
    # When names from code, a statement and a third name arrive
    admitted = [names(n) for n in ("claim.insert", "SELECT 1", "story.refs", "purge.delete")]
    # Then only the first two code-like names pass, and they keep passing
    assert admitted == ["claim.insert", "other", "story.refs", "other"]
    assert names("claim.insert") == "claim.insert"


def test_hostile_values_do_not_grow_the_series(registry: CollectorRegistry) -> None:
    # Given the catalogue fed a handful of hostile values
    metrics = HubMetrics(registry, BOUNDS)
    _drive_with_hostile_values(metrics, 3)
    before = len(_series(registry))
    # When it is fed ten times as many different ones
    _drive_with_hostile_values(metrics, 30)
    # Then not one series was added
    assert len(_series(registry)) == before


def test_no_label_is_an_id_and_every_value_is_bounded(registry: CollectorRegistry) -> None:
    # Given a catalogue after every method ran with hostile values
    metrics = HubMetrics(registry, BOUNDS)
    _drive_with_hostile_values(metrics, 5)
    bounded = {
        "vendor": BOUNDS.vendors | {"unknown"},
        "office": BOUNDS.offices | {"unknown", "shared"},  # shared: a channel of every office
        "contract": V1_CONTRACTS | {"unknown"},
        "outcome": set(OUTCOME_LABELS),
        "reason": {r.value for r in OutcomeReason} | {"none", "other"},
        "operation": OD_OPERATIONS | {"other"},
        "status_class": {s.value for s in StatusClass},
        "error_class": {e.value for e in ErrorClass},
        "state": {s.value for s in LaneState},
        "cause": {c.value for c in PauseCause},
        "result": {"ok", "error"},
        "verdict": {v.value for v in Reconciled},
        "channel": {c.value for c in ChannelRole},
        "reply": {r.value for r in BrokerReply},
        "version": {str(n) for _, n in deprecated_versions()} | {"unknown"},
        "table": WATCH_TABLES | {"other"},
        "door": WATCH_DOORS | {"other"},
        "disposition": WATCH_DISPOSITIONS | {"other"},
        "direction": set(HANDOVER_DIRECTIONS),
    }
    # Then every label name is an allowed one, none names an id, and values stay in their sets
    for name, labels in _series(registry):
        assert set(labels) <= ALLOWED_LABELS, name
        assert not any(part in label for label in labels for part in ID_LIKE), name
        for label, allowed in bounded.items():
            assert labels.get(label, next(iter(allowed))) in allowed, (name, label, labels)
        assert "Lovelace" not in str(labels) and "SELECT" not in str(labels)


def test_the_catalogue_docstring_lists_every_metric_with_its_labels(
    registry: CollectorRegistry,
) -> None:
    # Given the catalogue's families, each with a sample, and the table in the docstring
    _drive_with_hostile_values(HubMetrics(registry, BOUNDS), 1)
    table = {
        line.split()[0]: line.split(maxsplit=2)[2]
        for line in (metrics_module.__doc__ or "").splitlines()
        if line.startswith("hub_")
    }
    # Then each family is in the table under its exposed name, with its labels in order
    for family in registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        labels = next(
            ([k for k in s.labels if k != "le"] for s in family.samples),
            [],
        )
        listed = table.pop(name)
        assert listed == (", ".join(labels) or "(none)"), name
    assert table == {}
