"""``hub worker``: migrate, load the registry (audited: ``registry_load``, with the file's hash),
declare the topology, run one lane per office, drain on a signal.

Draining stops every lane from taking messages and waits up to the grace period for the ones
in flight; a lane still busy then is cancelled (its bookkeeping is shielded and awaited). Only
then are the consumers cancelled and the connection closed, together: a cancelled consumer of a
single-active-consumer queue lets the broker activate another writer at once, which must not
get the messages behind the ones this writer still holds. Closing the channel hands those back
in delivery order.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import gc
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from aio_pika.abc import AbstractQueue, AbstractRobustChannel

from hub import bootstrap, names
from hub.audit import operator_of
from hub.broker_admin import ManagementApi, management_api
from hub.broker_limits import check_settings, log_broker_limits, log_in_hand
from hub.dlq.retention import DEFAULT_RETENTION_NAMES, apply_retention
from hub.errors import HubError
from hub.ledger import migrate
from hub.observability import serving
from hub.observability.writer_checks import REGISTRY, registry_loads
from hub.registry import load_hub_registry
from hub.registry.audited import load_audited_registry
from hub.settings import HubSettings
from hub.topology import declare_office_queue, declare_topology
from hub.weak_defaults import refuse_weak_defaults
from hub.writer.lanes import Lane
from hub.writer.office_queue import OfficeQueue
from hub.writer.working_bytes import WorkingBytes

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DrainReport:
    lanes: int
    cancelled: int  # lanes still busy when the grace period ended
    bookkeeping_unfinished: int


class Worker:
    def __init__(self, writer: bootstrap.Writer) -> None:
        self._writer = writer
        self._lanes: list[Lane] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Declare the topology (idempotent) and start every office's lane, each on a channel of
        its own; a lane consumes its queue when this writer serves the office and nothing
        holds it back (a pause, a hold)."""
        writer = self._writer
        await declare_topology(writer.publish_channel, writer.topology)
        for office in writer.topology.offices:
            queue = OfficeQueue(office, functools.partial(self._open_queue, office))
            lane = Lane(office=office, queue=queue, context=writer.lanes)
            writer.control.board.attach(office, lane.in_flight)
            await lane.begin()
            self._lanes.append(lane)
            task = asyncio.create_task(lane.run(), name=f"lane {office}")
            task.add_done_callback(_ended)
            # /healthz: a lane that ended while the writer runs
            writer.liveness.watch(office, task, writer.lanes.stopping)
            self._tasks.append(task)
        consuming = sum(lane.consuming for lane in self._lanes)
        others = len(self._lanes) - consuming
        prefetches = sorted(set(writer.prefetches.values()))
        log.info("consuming %d office queue(s)%s; lanes prefetch %s; working bytes %d",
                 consuming,
                 f"; {others} office(s) paused, held or served by another writer" if others
                 else "",
                 " or ".join(map(str, prefetches)), writer.lanes.working.limit_bytes)

    async def _open_queue(self, office: str) -> tuple[AbstractRobustChannel, AbstractQueue]:
        """A channel of the office lane's own, and its queue declared on it (idempotent)."""
        channel = await self._writer.lane_channel(office)
        limit = self._writer.topology.delivery_limit
        return channel, await declare_office_queue(channel, office, limit)

    @property
    def lanes(self) -> tuple[Lane, ...]:
        return tuple(self._lanes)

    @property
    def working(self) -> WorkingBytes:
        """The lanes' shared room for the large bodies they work on."""
        return self._writer.lanes.working

    async def run_until(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set; a lane that fails (the ledger refused for good) raises here."""
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({stopped, *self._tasks}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        for task in self._tasks:
            if task.done() and not task.cancelled():
                failure = task.exception()
                if failure is not None:
                    raise failure

    async def drain(self) -> DrainReport:
        self._writer.lanes.stopping.set()
        pending: set[asyncio.Task[None]] = set()
        if self._tasks:
            grace_s = self._writer.settings.drain_grace_s
            _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        timeout_s = 2 * self._writer.settings.confirm_timeout_s
        unfinished = await self._writer.shielded.wait(timeout_s)
        for lane in self._lanes:
            await lane.cancel()
        report = DrainReport(
            lanes=len(self._lanes), cancelled=len(pending), bookkeeping_unfinished=unfinished
        )
        log.info(
            "drained %d lane(s): %d cancelled after the grace period, %d bookkeeping unfinished",
            report.lanes, report.cancelled, report.bookkeeping_unfinished,
        )
        return report


def freeze_startup_heap() -> int:
    """Collect what start-up left behind, then leave every object alive now to reference
    counting alone; how many objects are frozen.

    What is built to start the writer lives as long as it does: modules, contract schemas, the
    registry, every lane with its consumer and channel state. Python's full collections still
    walk all of it, about every 10 s under load, with the event loop stopped for the walk; a
    stopped loop holds every office's reply and slot alike (measured in the fleet at 1.5x: full
    collections of 84-125 ms each). Frozen (``gc.freeze``), those objects are skipped: the full
    collections took 27-31 ms. An object frozen here that later becomes cyclic garbage is never
    freed, so this is done once, when start-up is over."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


# glibc's mallopt parameter and the size from which a block is mapped from the OS on its own.
_M_MMAP_THRESHOLD = -3
LARGE_BLOCK_BYTES = 1024 * 1024


def map_large_blocks() -> bool:
    """Have glibc map every block of 1 MiB or more from the OS on its own, so that a document's
    body and its copies go back to the OS once freed; whether it took. By default glibc raises
    that threshold to the largest block freed (up to 32 MiB), after which document-sized blocks
    come from its heap, whose freed middle stays resident: measured with 50 uploads of 15 MB,
    the writer's peak was 479 MiB that way and 409 MiB with the threshold fixed
    (docs/performance.md, "Memory"). Not glibc (musl, macOS): nothing to do."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))


async def _apply_retention(settings: HubSettings, api: ManagementApi) -> None:
    """hub.dead's retention as the settings say (``hub topology`` does the same). The writer
    applies intents without it, so a refusal is logged as an error, not a reason to stop."""
    days = settings.dead_retention_days
    try:
        await apply_retention(api, DEFAULT_RETENTION_NAMES, days)
    except HubError as exc:
        log.error("hub.dead's retention (HUB_DEAD_RETENTION_DAYS=%g) is not in force: %s; "
                  "dead letters stay until replayed or purged", days, exc)
        return
    log.info("hub.dead keeps dead letters %g day(s) (policy %s)", days, names.RETENTION_POLICY)


def _ended(task: asyncio.Task[None]) -> None:
    """A lane ends only when the writer stops, or when the ledger refuses for good (the writer
    then stops too): say so at once, with the failure."""
    if not task.cancelled() and (failure := task.exception()) is not None:
        log.error("%s ended: %s", task.get_name(), failure, exc_info=failure)


async def run_worker(
    settings: HubSettings,
    environ: Mapping[str, str],
    stop: asyncio.Event,
    *,
    freeze_heap: bool = False,
) -> DrainReport:
    """The whole life of ``hub worker``, until ``stop`` is set (by SIGTERM or SIGINT); its
    /metrics, /healthz and /readyz are served on ``HUB_METRICS_HOST:HUB_METRICS_PORT``. With
    ``freeze_heap`` (the process is the writer's own) large blocks are mapped on their own
    (``map_large_blocks``) and its start-up objects are frozen once every lane consumes
    (``freeze_startup_heap``)."""
    check_settings(settings)
    if freeze_heap and not map_large_blocks():
        log.warning("cannot fix glibc's mmap threshold: freed document bodies may stay resident")
    # The weak-defaults check reads the registry before any connection carries a credential;
    # the load the writer runs on is the audited one, once the trail's table exists.
    unaudited = await asyncio.to_thread(load_hub_registry, settings, environ)
    refuse_weak_defaults(settings, unaudited)
    await migrate(settings.ledger_db)
    operator = operator_of(None, settings.operator)
    registry = await load_audited_registry(settings, environ, operator, command="hub worker")
    async with bootstrap.writer(settings, registry) as parts, serving(
        parts.metrics_registry,
        {**parts.readiness, REGISTRY: registry_loads(settings, environ)},
        host=settings.metrics_host, port=settings.metrics_port, liveness=parts.liveness,
    ):
        worker = Worker(parts)
        try:
            await worker.start()
            async with management_api(settings) as api:
                await log_broker_limits(settings, api, sorted(registry.offices))
                await _apply_retention(settings, api)
            log_in_hand(settings.writer, registry)
            if freeze_heap:
                log.info("froze %d start-up objects out of the garbage collector's way",
                         freeze_startup_heap())
            await worker.run_until(stop)
        finally:
            report = await worker.drain()
    return report
