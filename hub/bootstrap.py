"""The composition root: the one place that builds the writer's real objects from the settings
and the registry (one HTTP client, one pacer, one ledger pool, one broker connection, and one
read-only pool per office database, which connects only when reconciliation first asks).

Nothing else in the hub connects or reads the environment; tests build the writer here too.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from prometheus_client import CollectorRegistry

from hub.broker_connection import WRITER_CONNECTION_PREFIX, connect_robust
from hub.broker_limits import hold_limit_s, lane_prefetches
from hub.control.running import Control, running_control, running_outbox
from hub.dlq.expiry_recorder import running_expiry_recorder
from hub.dlq.retention import DEFAULT_RETENTION_NAMES, RetentionNames
from hub.ledger import MySqlLedger
from hub.observability import (
    FamilyRegistry,
    HubMetrics,
    LabelBounds,
    LaneProgress,
    Liveness,
    LivenessLimits,
    ReadinessCheck,
)
from hub.observability.broker_events import BrokerEvents
from hub.observability.labels import ChannelRole
from hub.observability.writer_checks import writer_checks
from hub.opendental import HttpClient, HttpTimeouts, KeyPacer, OfficeApi
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.outbox import OutcomeOutbox
from hub.reconcile import LedgerKnownRows
from hub.registry import Office, Registry
from hub.settings import HubSettings, WriterSettings
from hub.tls import client_context
from hub.topology import Topology, topology_for
from hub.writer.application import Applier, HttpOfficeApis
from hub.writer.finishing import AmqpPublisher, Finisher, ShieldedTasks
from hub.writer.intake import OwnAttempts
from hub.writer.lanes import LaneContext
from hub.writer.metrics import MeasuredOfficeApis, OdSqlObserver, WriterMetrics
from hub.writer.pipeline import CommitBatching, Pipeline
from hub.writer.reconciling import Reconciler
from hub.writer.retrying import Backoff, Draw, RetryPolicy
from hub.writer.working_bytes import WorkingBytes


@dataclass(frozen=True, kw_only=True)
class Writer:
    """What the worker runs on; closed by the context manager that built it."""

    settings: WriterSettings
    topology: Topology
    connection: AbstractRobustConnection  # each lane opens a channel of its own on it
    publish_channel: AbstractRobustChannel
    lanes: LaneContext  # what every office lane shares
    control: Control  # operators' pauses, offices' holds and lane status
    metrics_registry: CollectorRegistry  # for /metrics (hub worker serves it)
    readiness: Mapping[str, ReadinessCheck]  # for /readyz
    liveness: Liveness  # for /healthz: the lanes report their progress to it
    # Each office lane's, within the writer's byte budget (broker_limits.lane_prefetches).
    prefetches: Mapping[str, int]

    @property
    def metrics(self) -> WriterMetrics:
        return self.lanes.metrics

    @property
    def shielded(self) -> ShieldedTasks:
        return self.lanes.shielded

    async def lane_channel(self, office: str) -> AbstractRobustChannel:
        """A channel for one office lane: a broker-side close of it (a precondition failed,
        a consumer timed out) hands back that office's deliveries alone."""
        channel = await self.connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=self.prefetches[office])
        await self.metrics.broker.watch_channel(channel, ChannelRole.CONSUME, office)
        return channel


def office_apis(settings: HubSettings, offices: Mapping[str, Office]) -> dict[str, OfficeApi]:
    return {
        office.id: OfficeApi(
            office_id=office.id,
            base_url=office.api_url.rstrip("/"),
            developer_key=office.developer_key or settings.od_developer_key,
            customer_key=office.customer_key,
            mode=office.mode,
            read_only=office.read_only,
        )
        for office in offices.values()
    }


def retry_policy(settings: WriterSettings, draw: Draw) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.max_attempts,
        max_retry_s=settings.max_retry_s,
        retry=Backoff(base_s=settings.backoff_base_s, cap_s=settings.backoff_cap_s),
        auth_pause=Backoff(base_s=settings.auth_pause_s, cap_s=settings.auth_pause_cap_s),
        draw=draw,
    )


async def office_databases(
    stack: AsyncExitStack, settings: HubSettings, offices: Mapping[str, Office],
    metrics: WriterMetrics,
) -> dict[str, ReadOnlyDatabase]:
    """Each office's Open Dental database, read-only, closed with ``stack``."""
    databases: dict[str, ReadOnlyDatabase] = {}
    for office in offices.values():
        databases[office.id] = await stack.enter_async_context(ReadOnlyDatabase.open(
            office.db.connection(settings.tls), timeout_s=settings.od_sql_timeout_s,
            max_concurrent=settings.od_sql_max_concurrent, observer=OdSqlObserver(metrics),
            link=f"office {office.id}'s database",
        ))
    return databases


@asynccontextmanager
async def writer(
    settings: HubSettings,
    registry: Registry,
    *,
    metrics_registry: CollectorRegistry | None = None,
    draw: Draw | None = None,
    retention: RetentionNames = DEFAULT_RETENTION_NAMES,
) -> AsyncIterator[Writer]:
    """Build the writer's parts; on exit, stop the outbox's relay and the recorder of expired
    dead letters, close the broker connection (handing unacked messages back), then the ledger
    pool, the office databases and the HTTP client. ``draw`` pins the backoff's jitter (tests);
    by default it is random. ``retention`` names the dead-letter queue whose expired letters the
    writer records (tests give their own)."""
    ws = settings.writer
    collector = metrics_registry or FamilyRegistry()
    hub_metrics = HubMetrics(collector, LabelBounds.from_registry(registry))
    async with AsyncExitStack() as stack:
        control = await stack.enter_async_context(
            running_control(settings, sorted(registry.offices), hub_metrics)
        )
        metrics = WriterMetrics(hub_metrics, control.board)
        http = await stack.enter_async_context(
            HttpClient(HttpTimeouts(), max_connections=ws.http_connections,
                       tls=_api_tls(settings, registry))
        )
        databases = await office_databases(stack, settings, registry.offices, metrics)
        ledger = await _open_ledger(stack, settings, hub_metrics)
        broker = await _open_broker(stack, settings, metrics.broker, control.writer_id)
        shielded = ShieldedTasks()
        publisher = AmqpPublisher(broker.publish_channel, confirm_timeout_s=ws.confirm_timeout_s)
        outbox = await stack.enter_async_context(
            running_outbox(settings, publisher, hub_metrics)
        )
        await stack.enter_async_context(
            running_expiry_recorder(settings, broker.connection, hub_metrics, retention)
        )
        parts = _Parts(
            ledger=ledger, http=http, publisher=publisher, outbox=outbox, databases=databases,
            metrics=metrics, draw=draw or random.Random().random, writer_id=control.writer_id,
        )
        liveness = Liveness(LivenessLimits.of(settings.health, ws), hub_metrics)
        pipeline = _pipeline(settings, registry, parts, shielded, liveness)
        yield Writer(
            settings=ws,
            topology=topology_for(registry, settings.office_delivery_limit),
            connection=broker.connection,
            publish_channel=broker.publish_channel,
            lanes=LaneContext(
                pipeline=pipeline,
                metrics=metrics,
                shielded=shielded,
                stopping=asyncio.Event(),
                control=control,
                hold_limit_s=hold_limit_s(settings),
                working=WorkingBytes(ws.working_bytes),
            ),
            control=control,
            prefetches=lane_prefetches(ws, registry),
            metrics_registry=collector,
            readiness=writer_checks(broker.connection, control.store.ping),
            liveness=liveness,
        )


@dataclass(frozen=True, kw_only=True)
class _Broker:
    connection: AbstractRobustConnection
    publish_channel: AbstractRobustChannel  # confirms, and returns raise


async def _open_ledger(
    stack: AsyncExitStack, settings: HubSettings, metrics: HubMetrics
) -> MySqlLedger:
    ledger = await MySqlLedger.open(
        settings.ledger_db,
        retention_days=settings.ledger_retention_days,
        max_connections=settings.writer.ledger_connections,
        group_commits=settings.writer.ledger_group_commits,
        on_query=metrics.ledger_query,
    )
    stack.push_async_callback(ledger.close)
    return ledger


async def _open_broker(
    stack: AsyncExitStack, settings: HubSettings, events: BrokerEvents, writer_id: str
) -> _Broker:
    """One robust connection, closed with ``stack``: after a reconnect its channels (the lanes'
    own, opened by the worker) restore their prefetch and consumers by themselves. ``events``
    logs and counts what the broker does to them."""
    connection = await connect_robust(
        settings.broker_url, settings.tls, name=f"{WRITER_CONNECTION_PREFIX}{writer_id}",
        reconnect_interval_s=settings.broker_reconnect_interval_s,
    )
    stack.push_async_callback(connection.close)
    events.watch_connection(connection)
    publish_channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    await events.watch_channel(publish_channel, ChannelRole.PUBLISH)
    return _Broker(connection=connection, publish_channel=publish_channel)


@dataclass(frozen=True, kw_only=True)
class _Parts:
    """What the pipeline is built from, once opened."""

    ledger: MySqlLedger
    http: HttpClient
    publisher: AmqpPublisher
    outbox: OutcomeOutbox  # outcome events the broker would not take, and their relay
    databases: Mapping[str, ReadOnlyDatabase]
    metrics: WriterMetrics
    draw: Draw
    writer_id: str  # this process, as the ledger names the writer of an attempt


def _pipeline(
    settings: HubSettings, registry: Registry, parts: _Parts, shielded: ShieldedTasks,
    progress: LaneProgress,
) -> Pipeline:
    ws = settings.writer
    apis = office_apis(settings, registry.offices)
    pacer = KeyPacer(pacing=settings.od_pacing, on_backoff=parts.metrics.pacer_backoff)
    for api in apis.values():
        pacer.register(api)
    policy = retry_policy(ws, parts.draw)
    ledger = parts.ledger
    own = OwnAttempts(writer_id=parts.writer_id)
    infra_backoff = Backoff(base_s=ws.infra_backoff_base_s, cap_s=ws.infra_backoff_cap_s)
    applier = Applier(
        ledger=ledger,
        apis=MeasuredOfficeApis(HttpOfficeApis(http=parts.http, pacer=pacer, offices=apis),
                                parts.metrics),
        policy=policy,
        attempt_timeout_s=ws.attempt_timeout_s,
        own=own,
    )
    reconciler = Reconciler(
        known_rows=LedgerKnownRows(ledger), databases=parts.databases, ledger=ledger,
        policy=policy, attempt_timeout_s=ws.attempt_timeout_s, metrics=parts.metrics, own=own,
    )
    finisher = Finisher(
        ledger=ledger, publisher=parts.publisher, clock=_now, draw=parts.draw,
        infra_backoff=infra_backoff, outbox=parts.outbox,
    )
    return Pipeline(
        registry=registry,
        ledger=ledger,
        reconciler=reconciler,
        applier=applier,
        finisher=finisher,
        shielded=shielded,
        clock=_now,
        batching=CommitBatching.of_offices(apis.values()),
        metrics=parts.metrics,
        progress=progress,
        crash_limit=ws.crash_limit,
        crash_backoff=infra_backoff,
    )


def _api_tls(settings: HubSettings, registry: Registry) -> ssl.SSLContext | None:
    """The hub's TLS context when an office's Open Dental API is on https (built only then, so
    that an unused HUB_TLS__* is never read)."""
    if any(office.api_url.startswith("https://") for office in registry.offices.values()):
        return client_context(settings.tls)
    return None


def _now() -> datetime:
    return datetime.now(UTC)


