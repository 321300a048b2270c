"""Settings from ``HUB_*`` environment variables (and ``.env``), with defaults for a local machine.

Nothing here connects or reads the environment at import: ``HubSettings()`` is built once, by the
command line, and handed down.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiMode(StrEnum):
    """How the hub reaches an office's Open Dental API; decides pacing (opendental-api.md §2)."""

    REMOTE = "remote"  # api.opendental.com through the eConnector: throttled per customer key
    SERVICE = "service"  # the API Service on :30223 inside the office: not throttled
    LOCAL = "local"  # the Local API inside opendental.exe on :30222: not throttled


class MySqlSettings(BaseModel):
    """One MariaDB/MySQL connection; a plain model, so only ``HubSettings`` reads the environment
    (a ``BaseSettings`` here would pick up bare ``USER`` or ``HOST`` variables)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: SecretStr = SecretStr("")
    database: str = "hub"
    # The hub's own statements wait this long for a row lock, then fail as transient.
    lock_wait_s: int = Field(default=10, ge=1)


class LogFormat(StrEnum):
    """How the hub's commands write their logs (``HUB_LOG_FORMAT``)."""

    TEXT = "text"  # readable in a terminal
    JSON = "json"  # one JSON object a line, for a log shipper


class WriterSettings(BaseModel):
    """The writer (``hub worker``); ``HUB_WRITER__MAX_ATTEMPTS`` sets a field."""

    model_config = ConfigDict(extra="forbid")

    prefetch: int = Field(default=10, ge=1)  # unacked messages per office queue
    max_attempts: int = Field(default=5, ge=1)  # Open Dental attempts before retries_exhausted
    # ... or this long after an intent's retries began, whichever comes first; an office that
    # cannot be reached or throttles runs this clock without using up attempts; a 401 neither.
    max_retry_s: float = Field(default=3600.0, gt=0)
    backoff_base_s: float = Field(default=1.0, gt=0)  # first retry's delay cap; doubles
    backoff_cap_s: float = Field(default=60.0, gt=0)
    # One API attempt, pacing included; longer than the HTTP read timeout (65 s).
    attempt_timeout_s: float = Field(default=90.0, gt=0)
    # 401: the office's lane pauses this long (doubling per attempt, capped), then tries again.
    auth_pause_s: float = Field(default=30.0, gt=0)
    auth_pause_cap_s: float = Field(default=600.0, gt=0)
    confirm_timeout_s: float = Field(default=10.0, gt=0)  # a broker confirm of an outcome/DLQ
    # The hub's own ledger or broker failing: the lane holds its message and tries again after
    # a jittered delay doubling per hold from this, capped.
    infra_backoff_base_s: float = Field(default=0.5, gt=0)
    infra_backoff_cap_s: float = Field(default=30.0, gt=0)
    drain_grace_s: float = Field(default=20.0, ge=0)  # SIGTERM: in-flight messages may finish
    # A delivery the writer fails on unexpectedly (a bug) is run again in place this many times,
    # then dead-lettered (writer_failed), so the office's lane goes on behind it in order.
    crash_limit: int = Field(default=5, ge=1)
    http_connections: int = Field(default=20, ge=1)  # shared by every office
    ledger_connections: int = Field(default=16, ge=1)
    # Claims and finishes are committed in groups; at most this many groups are in flight.
    ledger_group_commits: int = Field(default=2, ge=1)


class ControlSettings(BaseModel):
    """Operations on a running writer (hub/control): pauses, lane status, queue depths, the
    outbox's relay; ``HUB_CONTROL__PAUSE_POLL_S`` sets a field."""

    model_config = ConfigDict(extra="forbid")

    pause_poll_s: float = Field(default=1.0, gt=0)  # how soon a pause or resume takes effect
    status_heartbeat_s: float = Field(default=5.0, gt=0)  # lane_status rows rewritten this often
    stale_after_s: float = Field(default=30.0, gt=0)  # hub status: a row older is a writer gone
    depth_poll_s: float = Field(default=5.0, gt=0)  # queue depths from the management API
    # The management API lists a connection only some seconds after it opened; a vendor pause
    # closes the vendor's connections again after this long to catch those it could not see.
    vendor_recheck_s: float = Field(default=6.0, ge=0)
    # Outcome events the broker would not take wait in the outbox (hub/outbox); each writer's
    # relay tries them again this often.
    outbox_poll_s: float = Field(default=5.0, gt=0)


class HealthSettings(BaseModel):
    """The writer's liveness (``/healthz``, ``hub check``; hub/observability/liveness.py);
    ``HUB_HEALTH__LOOP_STALL_S`` sets a field."""

    model_config = ConfigDict(extra="forbid")

    heartbeat_s: float = Field(default=0.25, gt=0)  # how often the event loop proves it runs
    # /healthz fails while the loop is this late for its heartbeat: far above a busy loop's
    # hiccups (a garbage collection, a big decode), far below an orchestrator's patience.
    loop_stall_s: float = Field(default=5.0, gt=0)
    # /healthz fails when one lane has worked on one delivery this long; None: twice the
    # writer's attempt timeout (a reconciliation and an attempt) plus 60 s for ledger and confirm.
    lane_busy_limit_s: float | None = Field(default=None, gt=0)


class HubSettings(BaseSettings):
    """Every setting of the hub. ``HUB_LEDGER_DB__PASSWORD`` sets a nested field."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    broker_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    ledger_db: MySqlSettings = Field(default_factory=MySqlSettings)
    ledger_retention_days: int = Field(default=7, ge=1)  # how long an idempotency key is remembered

    # The simulated office's Open Dental: API and the read-only SQL connection to its database.
    od_api_url: str = "http://127.0.0.1:30223/api/v1"
    od_api_mode: ApiMode = ApiMode.SERVICE
    od_developer_key: SecretStr = SecretStr("NFF6i0KrXrxDkZHt")
    od_customer_key: SecretStr = SecretStr("VzkmZEaUWOjnQX2z")
    od_db: MySqlSettings = Field(
        default_factory=lambda: MySqlSettings(
            user="od_readonly", password=SecretStr("od_readonly"), database="opendental"
        )
    )
    od_sql_timeout_s: float = 5.0
    od_sql_max_concurrent: int = 4

    # The office/vendor registry (hub/registry): offices, vendors and their data agreements.
    registry_path: Path = Path("registry.toml")
    # RabbitMQ's management HTTP API, used to manage vendors' broker users (hub/broker_admin.py).
    management_url: str = "http://127.0.0.1:15672"
    management_user: str = "guest"
    management_password: SecretStr = SecretStr("guest")
    # Deliveries of one message before an office queue dead-letters it (a poison message).
    office_delivery_limit: int = 20
    # The broker's consumer_timeout (rabbitmq.conf; 30 min by default, not readable through the
    # management API of RabbitMQ 3.10): the writer keeps no delivery unacked for more than half
    # of it, so no broker timer ever decides for the hub (hub/writer/lanes.py).
    broker_consumer_timeout_s: float = Field(default=1800.0, gt=0)

    log_format: LogFormat = LogFormat.TEXT
    writer: WriterSettings = Field(default_factory=WriterSettings)
    # The writer's /metrics, /healthz and /readyz (hub/observability): loopback by default; the
    # compose file sets HUB_METRICS_HOST=0.0.0.0 so Prometheus can reach it from its container.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    control: ControlSettings = Field(default_factory=ControlSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
