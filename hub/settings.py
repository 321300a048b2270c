"""Settings from ``HUB_*`` environment variables (and ``.env``), with defaults for a local machine.

Nothing here connects or reads the environment at import: ``HubSettings()`` is built once, by the
command line, and handed down. Each field's docstring is its description for operators:
``hub settings export`` renders them into docs/settings.md, and CI checks that file is current.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ApiMode(StrEnum):
    """How the hub reaches an office's Open Dental API; decides pacing (opendental-api.md §2)."""

    REMOTE = "remote"  # api.opendental.com through the eConnector: throttled per customer key
    SERVICE = "service"  # the API Service on :30223 inside the office: not throttled
    LOCAL = "local"  # the Local API inside opendental.exe on :30222: not throttled


class Pacing(StrEnum):
    """How the hub spaces a throttled key's requests (hub/opendental/pacer.py)."""

    ADAPTIVE = "adaptive"  # from the send, plus what the round trip showed may be needed
    REPLIES = "replies"  # a whole slot after each reply: the slowest, safe under any reading


class TlsSettings(BaseModel):
    """The TLS of every link the hub opens (hub/tls.py); ``HUB_TLS__CA_FILE`` sets a field.

    Which links use TLS is each link's own setting: ``amqps://`` in ``HUB_BROKER_URL``,
    ``https://`` in ``HUB_MANAGEMENT_URL`` and in an office's ``api_url``, ``tls`` for a MariaDB
    connection (``HUB_LEDGER_DB__TLS``, an office's ``[offices.db] tls``). Frozen, so that the
    TLS context built from it is built once per process."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    ca_file: Path | None = None
    """A PEM file of CA certificates the hub trusts in addition to the system's store, on every
    TLS link it opens: the CA that signed your RabbitMQ's, MariaDB's and Open Dental's server
    certificates when it is not a public one (scripts/make-certs.sh makes a local one)."""
    cert_file: Path | None = None
    """The hub's client certificate (PEM), shown on every TLS link it opens; a server that
    verifies clients (RabbitMQ with ``verify_peer``) refuses one its CA did not sign. Set it
    together with ``HUB_TLS__KEY_FILE``."""
    key_file: Path | None = None
    """The private key (PEM, unencrypted) of ``HUB_TLS__CERT_FILE``."""
    verify: bool = True
    """Whether the hub verifies the server's certificate and host name on every TLS link. Off,
    the links are encrypted but anyone on the path can pretend to be the server: each command
    logs a WARNING naming the links as it opens its first TLS link, and ``hub worker`` refuses
    to start while any endpoint is not on this machine (``hub/weak_defaults.py``)."""


class MySqlSettings(BaseModel):
    """One MariaDB/MySQL connection; a plain model, so only ``HubSettings`` reads the environment
    (a ``BaseSettings`` here would pick up bare ``USER`` or ``HOST`` variables).

    ``HubSettings`` hands its ``TlsSettings`` to each database's settings (``with_client_tls``),
    so that a database's settings are all a connection to it needs; copies keep them."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    _client_tls: TlsSettings | None = PrivateAttr(default=None)

    host: str = "127.0.0.1"
    """Host name or IP address of the MariaDB (or MySQL) server."""
    port: int = 3306
    """The server's TCP port."""
    user: str = "root"
    """The account the hub logs in as."""
    password: SecretStr = SecretStr("")
    """That account's password."""
    database: str = "hub"
    """The database (schema) to use."""
    lock_wait_s: int = Field(default=10, ge=1)
    """How long the hub's own statements wait for a row lock before they fail as transient (the
    lane then holds its message and tries again): the ledger's ``innodb_lock_wait_timeout``."""
    tls: bool = False
    """Connect over TLS, verifying the server's certificate and host name with ``HUB_TLS__*``
    (the CA, the hub's client certificate). Off, the connection is plain: ``hub worker`` refuses
    that toward a host not on this machine."""

    @property
    def client_tls(self) -> TlsSettings:
        """The TLS this connection uses when ``tls`` is on: the hub's, or else the defaults
        (the system's CAs, verification on)."""
        return self._client_tls or TlsSettings()

    def with_client_tls(self, tls: TlsSettings) -> MySqlSettings:
        """A copy that connects with ``tls`` (the CA and client certificate of ``HUB_TLS__*``)."""
        copy = self.model_copy()
        copy._client_tls = tls
        return copy


class LogFormat(StrEnum):
    """How the hub's commands write their logs (``HUB_LOG_FORMAT``)."""

    TEXT = "text"  # readable in a terminal
    JSON = "json"  # one JSON object a line, for a log shipper


class WriterSettings(BaseModel):
    """The writer (``hub worker``); ``HUB_WRITER__MAX_ATTEMPTS`` sets a field."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    prefetch: int = Field(default=10, ge=1)
    """Messages RabbitMQ hands each office's lane before the lane acknowledges any (the
    channel's prefetch). A lane that stands down for a long hold parks at most this many; the
    rest wait in the office's queue."""
    in_hand_bytes: int = Field(default=256 * 1024 * 1024, ge=1)
    """The most message bytes all lanes together may hold unacked, across offices, each office
    taking an even share: a lane's prefetch is lowered (to 1 at the least) until prefetch × its
    office's largest message fits its share. An office's largest message is the ceiling of the
    largest contract its agreements name (contracts/limits.py): 17 MiB where a vendor may upload
    documents, 256 KiB at most elsewhere. At prefetch 1 a lane still holds one message, so with
    more offices than the share allows, the bound is offices × their largest message
    (docs/performance.md, "Memory"). The writer logs the prefetches it uses at start."""
    working_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    """The most message bytes the lanes work on at once (parsing, validating, sending to Open
    Dental), across offices: a lane waits, its delivery unacked and in order, until the bodies
    being worked on leave room for its own; one body larger than this runs alone. A body being
    worked on costs about four times its size (docs/performance.md, "Memory")."""
    max_attempts: int = Field(default=5, ge=1)
    """Counted Open Dental attempts of one intent (transient failures, attempts that timed out)
    before it is dead-lettered as ``retries_exhausted``. Throttling, a 401 and an office that
    cannot be reached count none."""
    max_retry_s: float = Field(default=3600.0, gt=0)
    """Seconds after an intent's retries began when it is dead-lettered as
    ``retries_exhausted`` even with attempts left, whichever comes first. Waits asked by
    throttling run this clock; a 401 and an office that cannot be reached (a night or a weekend
    off) do not."""
    backoff_base_s: float = Field(default=1.0, gt=0)
    """Ceiling, in seconds, of the first delay before an intent is tried again after a transient
    failure; it doubles per attempt up to ``HUB_WRITER__BACKOFF_CAP_S``, and each delay is drawn
    at random below it (full jitter) so that lanes retrying together spread out. Probes of an
    office that cannot be reached use the same backoff."""
    backoff_cap_s: float = Field(default=60.0, gt=0)
    """No retry or probe delay exceeds this many seconds: how late, at most, an office's lane
    notices that Open Dental is back after an outage."""
    attempt_timeout_s: float = Field(default=90.0, gt=0)
    """Seconds one Open Dental attempt may take, the wait for pacing included; an attempt that
    runs out counts toward ``HUB_WRITER__MAX_ATTEMPTS``. Keep it above the HTTP read timeout
    (65 s: Open Dental answers 504 after 60 s) and within half of
    ``HUB_BROKER_CONSUMER_TIMEOUT_S``: ``hub worker`` refuses to start otherwise."""
    auth_pause_s: float = Field(default=30.0, gt=0)
    """When Open Dental answers 401 (a customer key revoked or disabled, a wrong developer key,
    a permission group missing), the office's lane pauses this many seconds before it tries
    again, doubling per try up to ``HUB_WRITER__AUTH_PAUSE_CAP_S``. Nothing is dead-lettered
    for it."""
    auth_pause_cap_s: float = Field(default=600.0, gt=0)
    """The longest pause, in seconds, between tries of an office answering 401: how late, at
    most, its lane goes on by itself once the key or the permissions are fixed."""
    confirm_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds the writer waits for the broker to confirm an outcome event or a dead-lettered
    message. An outcome event not confirmed in time waits in the outbox for the relay. On
    SIGTERM the writer waits up to twice this for its last bookkeeping."""
    infra_backoff_base_s: float = Field(default=0.5, gt=0)
    """When the hub's own database or broker fails, the lane holds its message and tries again
    after a random delay below this many seconds, doubling per hold up to
    ``HUB_WRITER__INFRA_BACKOFF_CAP_S``. A delivery the writer failed on unexpectedly waits the
    same way before it runs again."""
    infra_backoff_cap_s: float = Field(default=30.0, gt=0)
    """No hold for the hub's own database or broker waits longer than this many seconds before
    trying again: how late, at most, lanes go on once it is back."""
    drain_grace_s: float = Field(default=20.0, ge=0)
    """On SIGTERM, seconds the writer lets in-flight messages finish before it cancels them (a
    cancelled one stays unacked and is delivered again; the ledger answers for what was done).
    Keep it below the time your orchestrator waits before it kills the process."""
    crash_limit: int = Field(default=5, ge=1)
    """Runs of a delivery the writer fails on unexpectedly (a bug) before it is dead-lettered as
    ``writer_failed``, so that the office's lane goes on behind it in order; replay it
    (``hub dlq replay``) once the bug is fixed."""
    http_connections: int = Field(default=20, ge=1)
    """Open HTTP connections to Open Dental at most, shared by every office."""
    ledger_connections: int = Field(default=16, ge=1)
    """Connections of the writer's ledger to the hub database at most."""
    ledger_group_commits: int = Field(default=2, ge=1)
    """The writer commits intents' claims and finishes in groups, each one transaction; at most
    this many groups are in flight at once (docs/performance.md)."""


class ControlSettings(BaseModel):
    """Operations on a running writer (hub/control): pauses, lane status, queue depths, the
    outbox's relay; ``HUB_CONTROL__PAUSE_POLL_S`` sets a field."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    pause_poll_s: float = Field(default=1.0, gt=0)
    """How often, in seconds, each writer reads the pauses and office holds from the hub
    database: how soon ``hub office pause|resume`` and ``hub vendor pause|resume`` take effect,
    how soon a writer standing by learns that another one holds an office, and how soon the
    writers learn that one joined or left (each writer beats in the database as it reads)."""
    status_heartbeat_s: float = Field(default=5.0, gt=0)
    """Each writer rewrites its lanes' rows for ``hub status`` this often, in seconds, besides
    on every change; it also renews its office holds."""
    stale_after_s: float = Field(default=30.0, gt=0)
    """Seconds after which a lane row nobody rewrote shows in ``hub status`` as ``stale``, and
    an office hold nobody renewed belongs to a writer gone: another writer adopts it, with what
    it parked. Keep it well above ``HUB_CONTROL__STATUS_HEARTBEAT_S``."""
    writer_stale_s: float = Field(default=5.0, gt=0)
    """Each writer beats in the hub database on every ``HUB_CONTROL__PAUSE_POLL_S``; one whose
    beat is older than this many seconds is gone, and the live writers share its offices out
    among themselves. A writer killed leaves its offices unserved this long (plus a poll); one
    stopped cleanly hands them over within a poll. At least three polls, or a slow hub database
    would move offices back and forth."""
    depth_poll_s: float = Field(default=5.0, gt=0)
    """How often, in seconds, the writer reads its office queues' depths from RabbitMQ's
    management API (``hub_queue_depth``)."""
    vendor_recheck_s: float = Field(default=6.0, ge=0)
    """The management API lists a connection only some seconds after it opened, so a vendor
    pause closes the vendor's broker connections again after this many seconds, to catch those
    it could not see yet."""
    outbox_poll_s: float = Field(default=5.0, gt=0)
    """How often, in seconds, each writer's relay tries again the outcome events the broker
    would not take (waiting in the hub database's outbox), oldest first per vendor."""

    @model_validator(mode="after")
    def _beats_fit(self) -> ControlSettings:
        if self.writer_stale_s < 3 * self.pause_poll_s:
            raise ValueError(
                f"writer_stale_s ({self.writer_stale_s:g}) must be at least three polls "
                f"(pause_poll_s {self.pause_poll_s:g}): a writer beats once a poll"
            )
        return self


class HealthSettings(BaseModel):
    """The writer's liveness (``/healthz``, ``hub check``; hub/observability/liveness.py);
    ``HUB_HEALTH__LOOP_STALL_S`` sets a field."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    heartbeat_s: float = Field(default=0.25, gt=0)
    """How often, in seconds, the writer's event loop proves that it runs."""
    loop_stall_s: float = Field(default=5.0, gt=0)
    """``/healthz`` fails while the event loop is this many seconds late for its heartbeat: far
    above a busy loop's hiccups (a garbage collection, a big decode), far below an
    orchestrator's patience."""
    lane_busy_limit_s: float | None = Field(default=None, gt=0)
    """``/healthz`` fails when one lane has worked on one delivery this many seconds. Unset:
    twice ``HUB_WRITER__ATTEMPT_TIMEOUT_S`` (a reconciliation and an attempt) plus 60 s for the
    ledger and the confirm, so 240 s by default."""


class ConsoleSettings(BaseModel):
    """The operator console (``hub console``, hub/console); ``HUB_CONSOLE__PORT`` sets a
    field."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    host: str = "127.0.0.1"
    """The address the console listens on. Loopback by default: put a reverse proxy with TLS in
    front of it to reach it from elsewhere (the compose file sets ``0.0.0.0`` inside its
    container and publishes it on the host's loopback only)."""
    port: int = Field(default=8470, ge=0, le=65535)
    """The console's TCP port (``hub console --port`` overrides it); ``0`` picks a free port."""
    users_file: Path = Path("console-users.toml")
    """The console's users: a TOML file of names, roles (viewer, operator, admin) and argon2
    password hashes, written by ``hub console user add``. Read at every login, so a change
    needs no restart. Users signed in by a trusted proxy need an entry here too (their role),
    without a password."""
    session_ttl_s: float = Field(default=8 * 3600.0, gt=0)
    """Seconds a console session lasts after its login; then the user signs in again."""
    proxy_header: str | None = None
    """A trusted reverse proxy's header naming the signed-in user (e.g. ``X-Forwarded-User``),
    read only on requests from ``HUB_CONSOLE__TRUSTED_PROXIES``; unset, users sign in with
    their password. The user's role still comes from ``HUB_CONSOLE__USERS_FILE``."""
    # Comma-separated in the environment (NoDecode: not JSON).
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    """Addresses or networks, comma-separated (``10.0.0.5,10.1.0.0/16``), whose
    ``HUB_CONSOLE__PROXY_HEADER`` is believed; a request from anywhere else with that header is
    refused (403)."""
    login_failures: int = Field(default=5, ge=1)
    """Failed logins, per user name and client address, before that pair is refused for
    ``HUB_CONSOLE__LOGIN_LOCKOUT_S``."""
    login_lockout_s: float = Field(default=300.0, gt=0)
    """Seconds a user name and address pair is refused after too many failed logins; failures
    older than this are forgotten."""
    page_size: int = Field(default=50, ge=1, le=500)
    """Intents, dead letters and audit rows per page."""
    bulk_replay_gap_s: float = Field(default=0.0, ge=0, le=60)
    """Seconds between two letters of a bulk replay started from the console: 0 replays them as
    fast as the broker confirms; a gap spreads a big replay out, leaving an operator time to
    cancel it (a cancel ends the gap at once). The replay holds the letters it read, unacked,
    until it ends: keep the gap times the letters under the broker's ``consumer_timeout`` (30
    min by default), past which the broker takes them back and the replay stops (none is
    lost)."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # a ValueError names the bad one
        return value


class WatchSettings(BaseModel):
    """``hub watch`` (hub/watch): every change in an office's Open Dental rows, attributed to
    the door it came through; ``HUB_WATCH__INTERVAL_S`` sets a field."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    interval_s: float = Field(default=30.0, gt=0)
    """Seconds between two scans of an office's tables while its database answers quickly: a
    change made outside the hub is attributed within about this long."""
    max_interval_s: float = Field(default=600.0, gt=0)
    """The longest wait, in seconds, between scans of an office whose database is slow: each
    scan whose slowest query took more than ``HUB_WATCH__SLOW_QUERY_S`` doubles the office's
    interval up to this; a quick scan brings it back to ``HUB_WATCH__INTERVAL_S``."""
    slow_query_s: float = Field(default=0.5, gt=0)
    """A scan query slower than this many seconds means the office's database is busy: the
    watch backs off from it."""
    batch: int = Field(default=500, ge=1, le=10000)
    """Rows one scan query reads at most (its ``LIMIT``)."""
    max_pages: int = Field(default=20, ge=1)
    """Scan queries per table in one scan at most; what is left is read by the next scan, so a
    burst of changes never turns into a long run of queries against the office's database."""
    office_concurrency: int = Field(default=2, ge=1)
    """Queries the watch runs at once against one office's database at most."""
    retention_days: float = Field(default=30.0, gt=0)
    """How many days attributed changes (and each row's digests) stay in the hub database;
    the watch deletes older ones as it goes."""
    commit_lag_s: float = Field(default=10.0, ge=0)
    """Seconds a scan that caught up reads again before the latest change stamp it saw: a row is
    stamped when its UPDATE runs but seen only once its transaction commits, so a slow commit
    can land behind a cursor that went past its stamp. Rows unchanged since they were read are
    skipped; only their reading is repeated."""
    log_window_s: float = Field(default=5.0, ge=0)
    """A securitylog row explains a change when it is about the same row and was logged within
    this many seconds of the row's new DateTStamp (both the office server's clock)."""
    intent_wait_s: float = Field(default=259200.0, gt=0)
    """How long, in seconds, the watch keeps asking the ledger for the intent behind a change
    it gave to the hub's key with no intent yet on record (a create whose reply was lost is
    tied to its row only once reconciliation finds it, which waits while Open Dental is off).
    Until then the change is told to no vendor, so the vendor that made it is never told of
    it; past this (3 days by default) it is told without an intent."""
    events_host: str = "127.0.0.1"
    """The address the watch listens on for Open Dental's API Subscriptions pushes (``POST
    /od-events/<office>``): the machine whose Open Dental posts events must reach it."""
    events_port: int = Field(default=9465, ge=0, le=65535)
    """The TCP port of that endpoint; ``0`` picks a free port."""
    metrics_port: int = Field(default=9466, ge=0, le=65535)
    """The TCP port of the watch's own ``/metrics`` and ``/healthz`` (on ``HUB_METRICS_HOST``),
    apart from the writer's, so both run on one machine."""


class HubSettings(BaseSettings):
    """Every setting of the hub's own commands (``hub worker``, ``hub topology``, ``hub vendor``,
    ``hub dlq``, ``hub status`` and the others)."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_nested_delimiter="__", env_file=".env", extra="ignore",
        use_attribute_docstrings=True, title="The hub",
    )

    broker_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    """The hub's own RabbitMQ login, as an AMQP URL (``amqp://user:password@host:5672/vhost``):
    the writer consumes the office queues and publishes outcome events with it. ``hub dlq
    replay`` needs this user to have RabbitMQ's ``impersonator`` tag
    (scripts/setup-broker.sh gives it). ``amqps://user:password@host:5671/`` connects over
    TLS, verifying the broker's certificate with ``HUB_TLS__*``. On a cluster, the nodes'
    URLs comma-separated, each whole and with the same scheme, login and virtual host: the
    first connection tries each node once from a random one, and a lost connection moves to
    the next node (docs/operations.md, "Running on a three-node cluster")."""
    broker_reconnect_interval_s: float = Field(default=5.0, gt=0)
    """Seconds between the writer's (and the watch's) attempts to reconnect to the broker once
    its connection is lost, each to the next node of ``HUB_BROKER_URL``. The first attempt
    comes at once, unless the connection was made less than this long before (aio-pika pauses
    this long after each connect); each attempt that fails waits this long before the next
    (docs/operations.md, "Running on a three-node cluster")."""
    ledger_db: MySqlSettings = Field(default_factory=MySqlSettings, title="The hub database")
    """The hub's own MariaDB database: the ledger of intents and their idempotency keys,
    pauses, lane status, office holds, parked deliveries, the outcome outbox and the operators'
    audit trail. ``hub migrate`` creates its tables."""
    ledger_retention_days: int = Field(default=7, ge=1)
    """How many days the hub remembers an intent's idempotency key: a vendor sending the same
    key again within them gets the first outcome again (``duplicate``), never a second write.
    Outcome events still waiting in the outbox after it are dropped, with a warning."""

    dead_retention_days: float = Field(default=14.0, gt=0)
    """How many days a dead letter stays in ``hub.dead`` (a rejected or dead intent with its
    body, which may hold patient data) before the broker drops it; fractions are allowed (0.5 is
    12 hours). ``hub topology`` and ``hub worker`` set it as the RabbitMQ policy
    ``hub-dead-retention`` (``message-ttl``); each dead letter that expires is recorded by
    intent id, without its body, in the hub database (``hub dlq expired``). A change applies to
    dead letters that reach ``hub.dead`` after it: the ones already there keep the retention
    they arrived with."""

    od_developer_key: SecretStr = SecretStr("NFF6i0KrXrxDkZHt")
    """The hub's Open Dental developer key, sent for every office whose registry entry names no
    developer key of its own. The default is Open Dental's public test key, which the simulator
    accepts; real offices need the hub's own key."""
    od_customer_key: SecretStr = SecretStr("VzkmZEaUWOjnQX2z")
    """A customer key the registry may reference (``customer_key_env = "HUB_OD_CUSTOMER_KEY"``,
    as the shipped registry.toml does for its office on the simulator); offices' keys are read
    only through the registry. The default is Open Dental's public test key."""
    od_db: MySqlSettings = Field(
        default_factory=lambda: MySqlSettings(
            user="od_readonly", password=SecretStr("od_readonly"), database="opendental"
        ),
        title="The simulated office's database",
    )
    """A read-only (SELECT-only) account on the simulator's Open Dental database. The writer
    reads each office's database as its registry entry says; the shipped registry.toml takes
    this password as ``HUB_OD_DB__PASSWORD``, and ``hub chaos`` builds its offices' entries
    from this account."""
    od_pacing: Pacing = Pacing.ADAPTIVE
    """How the writer spaces the requests of a throttled (remote-mode) customer key, one at a
    time either way. ``adaptive``: the next request goes a slot after the previous one was sent,
    later by how much slower its round trip was than the fastest recent one, and later still
    for a while after a throttle reply; it gets nearly the whole allowance whatever the round
    trip. ``replies``: a whole slot after each reply, as before, which gives a key
    1/(1 s + round trip) of its allowance (docs/performance.md, "Pacing")."""
    od_sql_timeout_s: float = 5.0
    """Seconds the hub waits to connect to an office's Open Dental database, and for each query
    there (MariaDB's ``max_statement_time``). These reads settle an attempt in doubt and serve
    ``hub trace``; one that runs out is a failed read, tried again later."""
    od_sql_max_concurrent: int = 4
    """Connections to each office's Open Dental database at most, so that the hub's reads never
    crowd the office's own use of it."""

    registry_path: Path = Path("registry.toml")
    """The office/vendor registry: the offices the hub writes to, each vendor's data agreements
    and references to their secrets (format: registry.example.toml). A relative path is read
    from the working directory."""
    operator: str | None = None
    """Who the audit trail (``hub audit``) records as the operator of an operator command run
    without ``--operator``, and of ``hub worker``'s registry load; unset, the OS user running
    it. The OS user is recorded beside it either way."""
    management_url: str = "http://127.0.0.1:15672"
    """RabbitMQ's management HTTP API: ``hub vendor`` manages vendors' broker users and
    permissions through it, ``hub topology`` and the writer put ``hub.dead``'s retention policy,
    and the writer reads queue depths and delivery limits from it. ``https://`` verifies its
    certificate with ``HUB_TLS__*``. On a cluster, several nodes' URLs comma-separated (same
    scheme): each request goes to the first that answers."""
    management_user: str = "guest"
    """The management API's user; managing vendors' users needs RabbitMQ's ``administrator``
    tag (which also lets it put the retention policy)."""
    management_password: SecretStr = SecretStr("guest")
    """That user's password."""
    office_delivery_limit: int = 20
    """Deliveries of one message before its office queue dead-letters it to ``hub.dead`` (the
    queue's ``x-delivery-limit``). The writer never hands back what it can keep, so only a
    message that makes writers die again and again reaches it. Fixed when an office's queue is
    first declared: ``hub topology`` exits 1 naming a queue declared with another value, and
    ``hub worker`` warns where a queue's effective limit (a policy may lower it) differs."""
    broker_consumer_timeout_s: float = Field(default=1800.0, gt=0)
    """The broker's ``consumer_timeout`` in seconds (rabbitmq.conf; 30 min by default), which
    RabbitMQ 3.10's management API cannot show: set it to the node's value (``rabbitmqctl eval
    'application:get_env(rabbit, consumer_timeout).'`` prints it in ms). A lane keeps a delivery
    unacked for at most half of it and then stands down, parking what it holds, so that no
    broker timer decides for the hub (hub/writer/lanes.py)."""

    log_format: LogFormat = LogFormat.TEXT
    """How the hub's commands, ``hub forms`` included, write their logs: ``text``, readable in
    a terminal, or ``json``, one JSON object a line for a log shipper."""
    writer: WriterSettings = Field(
        default_factory=WriterSettings, title="The writer (`hub worker`)"
    )
    """How the writer applies intents: what each lane holds, attempts and backoff, timeouts,
    shutdown, and its connections to Open Dental and the hub database."""
    metrics_host: str = "127.0.0.1"
    """The address the writer's ``/metrics``, ``/healthz`` and ``/readyz`` (hub/observability)
    listen on, and where ``hub check`` asks by default. Loopback by default; the compose file
    sets ``0.0.0.0`` so that Prometheus can reach it from its container."""
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    """The TCP port of those endpoints; ``0`` picks a free port."""
    control: ControlSettings = Field(
        default_factory=ControlSettings, title="Operations on running writers"
    )
    """How soon running writers see operators' pauses and each other's office holds, keep
    ``hub status`` current, and retry outcome events the broker would not take."""
    health: HealthSettings = Field(
        default_factory=HealthSettings, title="The writer's liveness (`/healthz`, `hub check`)"
    )
    """When ``/healthz`` (and with it ``hub check``, the compose stack's health check) calls the
    writer stalled."""
    console: ConsoleSettings = Field(
        default_factory=ConsoleSettings, title="The operator console (`hub console`)"
    )
    """Where the console listens, who may sign in and how, and how long a session lasts
    (docs/operations.md, "The console")."""
    watch: WatchSettings = Field(
        default_factory=WatchSettings, title="The watch of every office's changes (`hub watch`)"
    )
    """How often ``hub watch`` scans each office's tables, how hard it may read their
    databases, where it takes Open Dental's event pushes and how long it keeps what it found."""
    tls: TlsSettings = Field(default_factory=TlsSettings, title="TLS on every link")
    """The CA the hub trusts, its client certificate, and whether it verifies servers, for
    every TLS link it opens: the broker, the management API, the hub database, offices'
    databases and Open Dental's API (docs/tls.md)."""

    @model_validator(mode="after")
    def _databases_use_hub_tls(self) -> HubSettings:
        # The databases' settings carry the hub's TLS, so that whatever opens a connection
        # from them alone (the ledger, the audit trail, the office's database) verifies alike.
        self.ledger_db = self.ledger_db.with_client_tls(self.tls)
        self.od_db = self.od_db.with_client_tls(self.tls)
        return self
