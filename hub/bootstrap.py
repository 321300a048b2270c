"""The composition root: the one place that builds the writer's real objects from the settings
and the registry (one HTTP client, one pacer, one ledger pool, one broker connection).

Nothing else in the hub connects or reads the environment; tests build the writer here too.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aio_pika
import aiormq
import httpx
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from prometheus_client import CollectorRegistry

from hub.broker_connection import BrokerLoginRefused
from hub.errors import TransientError
from hub.ledger import MySqlLedger
from hub.opendental import HttpTimeouts, KeyPacer, OfficeApi, make_http_client
from hub.registry import Office, Registry
from hub.settings import HubSettings, WriterSettings
from hub.topology import Topology, topology_for
from hub.writer.apis import HttpOfficeApis
from hub.writer.application import Applier
from hub.writer.backoff import Backoff, RetryPolicy
from hub.writer.bookkeeping import Bookkeeping
from hub.writer.metrics import WriterMetrics
from hub.writer.pipeline import Pipeline
from hub.writer.publisher import AmqpPublisher
from hub.writer.settlement import Settler
from hub.writer.wrappers import LogDecisions, MeasureDecisions, Process, wrap


@dataclass(frozen=True, kw_only=True)
class Writer:
    """What the worker runs on; closed by the context manager that built it."""

    settings: WriterSettings
    topology: Topology
    consume_channel: AbstractRobustChannel
    publish_channel: AbstractRobustChannel
    process: Process
    metrics: WriterMetrics
    bookkeeping: Bookkeeping


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


def retry_policy(settings: WriterSettings, draw: random.Random) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.max_attempts,
        retry=Backoff(base_s=settings.backoff_base_s, cap_s=settings.backoff_cap_s),
        auth_pause=Backoff(base_s=settings.auth_pause_s, cap_s=settings.auth_pause_cap_s),
        draw=draw.random,
    )


@asynccontextmanager
async def writer(
    settings: HubSettings,
    registry: Registry,
    *,
    metrics_registry: CollectorRegistry | None = None,
) -> AsyncIterator[Writer]:
    """Build the writer's parts; on exit, close the broker connection first (handing unacked
    messages back), then the ledger pool and the HTTP client."""
    ws = settings.writer
    metrics = WriterMetrics(metrics_registry or CollectorRegistry())
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            make_http_client(HttpTimeouts(), max_connections=ws.http_connections)
        )
        ledger = await MySqlLedger.open(
            settings.ledger_db,
            retention_days=settings.ledger_retention_days,
            max_connections=ws.ledger_connections,
        )
        stack.push_async_callback(ledger.close)
        connection = await _connect(settings)
        stack.push_async_callback(connection.close)
        consume_channel = await connection.channel(publisher_confirms=False)
        await consume_channel.set_qos(prefetch_count=ws.prefetch)  # per consumer: per office
        publish_channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        bookkeeping = Bookkeeping()
        publisher = AmqpPublisher(publish_channel, confirm_timeout_s=ws.confirm_timeout_s)
        pipeline = _pipeline(settings, registry, ledger, http, publisher, bookkeeping)
        yield Writer(
            settings=ws,
            topology=topology_for(registry, settings.office_delivery_limit),
            consume_channel=consume_channel,
            publish_channel=publish_channel,
            process=wrap(pipeline.process, [LogDecisions(metrics), MeasureDecisions(metrics)]),
            metrics=metrics,
            bookkeeping=bookkeeping,
        )


def _pipeline(
    settings: HubSettings,
    registry: Registry,
    ledger: MySqlLedger,
    http: httpx.AsyncClient,
    publisher: AmqpPublisher,
    bookkeeping: Bookkeeping,
) -> Pipeline:
    apis = office_apis(settings, registry.offices)
    pacer = KeyPacer()
    for api in apis.values():
        pacer.register(api)
    draw = random.Random()
    applier = Applier(
        ledger=ledger,
        apis=HttpOfficeApis(http=http, pacer=pacer, offices=apis),
        policy=retry_policy(settings.writer, draw),
        attempt_timeout_s=settings.writer.attempt_timeout_s,
    )
    settler = Settler(ledger=ledger, publisher=publisher, clock=_now, draw=draw.random)
    return Pipeline(
        registry=registry,
        ledger=ledger,
        applier=applier,
        settler=settler,
        bookkeeping=bookkeeping,
        clock=_now,
    )


def _now() -> datetime:
    return datetime.now(UTC)


async def _connect(settings: HubSettings) -> AbstractRobustConnection:
    """One robust connection; the first attempt fails fast, naming the host, never the password."""
    url = settings.broker_url.get_secret_value()
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or 5672}"
    try:
        return await aio_pika.connect_robust(url)
    except aiormq.exceptions.ProbableAuthenticationError as exc:
        raise BrokerLoginRefused(f"the broker at {where} refused the hub's login") from exc
    except (aiormq.exceptions.AMQPConnectionError, OSError) as exc:
        raise TransientError(f"cannot connect to the broker at {where} ({exc})") from exc
