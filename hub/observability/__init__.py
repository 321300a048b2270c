"""Observability: the metrics catalogue (``HubMetrics``, every metric in its docstring) and the
small HTTP server for ``/metrics``, ``/healthz`` (``Liveness``) and ``/readyz`` (``serving``)."""

from hub.observability.exposition import FamilyRegistry
from hub.observability.labels import (
    OUTCOME_LABELS,
    ErrorClass,
    LabelBounds,
    LaneState,
    StatusClass,
    od_operation,
)
from hub.observability.liveness import LaneProgress, Liveness, LivenessLimits
from hub.observability.metrics import HubMetrics, OdSqlObserver
from hub.observability.readiness import CheckResult, ReadinessCheck, run_checks
from hub.observability.server import ObservabilityServer, serving

__all__ = [
    "OUTCOME_LABELS",
    "CheckResult",
    "ErrorClass",
    "FamilyRegistry",
    "HubMetrics",
    "LabelBounds",
    "LaneProgress",
    "LaneState",
    "Liveness",
    "LivenessLimits",
    "ObservabilityServer",
    "OdSqlObserver",
    "ReadinessCheck",
    "StatusClass",
    "od_operation",
    "run_checks",
    "serving",
]
