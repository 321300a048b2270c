"""The observability numbers in one place: histogram buckets, the server's defaults.

Buckets are chosen for a world paced at about one Open Dental request per second per office:
from milliseconds (a ledger statement) to many minutes (an intent waiting behind a backlog).
"""

from __future__ import annotations

# Publish to applied: the vendor's wait, queueing behind the office's lane included. The 60 s
# bound is the latency objective's threshold (prometheus/alerts.yml), so it must stay a bucket.
PUBLISH_TO_APPLIED_BUCKETS_S = (
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
)
LATENCY_OBJECTIVE_S = 60.0
# One delivery through the pipeline, pacing and Open Dental's reply included.
PROCESSING_BUCKETS_S = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)
# One Open Dental request; Open Dental answers 504 after 60 s and the client reads until 65 s.
OD_REQUEST_BUCKETS_S = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 65.0,
)
# Waiting for the customer key's slot: 0 when unthrottled, up to a few seconds when remote.
PACER_WAIT_BUCKETS_S = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# A SQL statement (the hub's ledger, or the read-only Open Dental door with its 5 s timeout).
SQL_BUCKETS_S = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)

# How late the writer's event loop ran a heartbeat: about 1 ms while it keeps up; seconds are a
# stall (/healthz fails past HUB_HEALTH__LOOP_STALL_S, 5 s by default).
LOOP_LAG_BUCKETS_S = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)

# The metrics server: 9464 is the port OpenTelemetry's Prometheus exporters use by default.
DEFAULT_METRICS_PORT = 9464
# /readyz gives every check this long, all of them at once, before calling it failed.
READINESS_TIMEOUT_S = 3.0
