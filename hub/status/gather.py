"""Gather ``hub status`` from where every writer reports: ``lane_status``, ``pauses``, the
offices' holds and parked deliveries, the outcome events waiting in the outbox in the hub
database, queue depths from RabbitMQ's management API. No registry needed: the offices are those
with a queue, a lane row, a pause or a hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from hub import names
from hub.broker_admin import ManagementError, QueueDepth, management_api
from hub.control.model import LaneRow, Pauses, WriterRow
from hub.control.store import ControlStore
from hub.custody import Hold
from hub.custody.mysql_custody import MySqlCustody
from hub.errors import HubError
from hub.ledger.mysql_session import ignore_query
from hub.outbox import Waiting
from hub.outbox.mysql_outbox import MySqlOutbox
from hub.settings import HubSettings
from hub.status.model import NO_WRITER, STALE, HubStatus, LaneLine, WriterLine

OFFICE_QUEUE_PREFIX = names.office_queue("")


async def gather(settings: HubSettings) -> HubStatus:
    problems: list[str] = []
    lanes, pauses, writers = await _from_database(settings, problems)
    custody = await _custody(settings, problems)
    depths = await _depths(settings, problems)
    stale_after_s = settings.control.stale_after_s
    gone = {w.writer_id for w in writers if w.beat_s_ago > settings.control.writer_stale_s}
    offices = sorted(
        {row.office for row in lanes}
        | set(pauses.offices)
        | set(custody.holds) | set(custody.parked)
        | {name.removeprefix(OFFICE_QUEUE_PREFIX) for name in depths if _office_queue(name)}
    )
    lines = [
        replace(line, parked=custody.parked_of(office), hold=custody.holds.get(office))
        for office in offices
        for line in _lines(office, lanes, pauses, depths, stale_after_s, gone)
    ]
    dead = depths.get(names.DEAD_LETTER_QUEUE)
    return HubStatus(
        lanes=lines,
        writers=_writers(writers, lines, settings.control.writer_stale_s),
        dead_letters=None if dead is None else dead.messages,
        outcomes_waiting=await _outcomes_waiting(settings, problems),
        paused_vendors=list(pauses.vendors.values()),
        problems=problems,
    )


def _lines(
    office: str,
    lanes: Sequence[LaneRow],
    pauses: Pauses,
    depths: Mapping[str, QueueDepth],
    stale_after_s: float,
    gone: set[str],
) -> list[LaneLine]:
    """The office's line for each writer that reports its lane; a row not refreshed for
    ``stale_after_s``, or of a writer whose beat is stale, is ``stale``."""
    queue = depths.get(names.office_queue(office))
    depth = None if queue is None else queue.messages_ready
    pause = pauses.offices.get(office)
    rows = [row for row in lanes if row.office == office]
    if not rows:
        return [
            LaneLine(
                office=office, state=NO_WRITER, queue_depth=depth, in_flight=None,
                writer_id=None, serving=None, seen_s_ago=None, last_error=None,
                last_error_at=None,
                pause=pause, parked=None, hold=None,
            )
        ]
    return [
        LaneLine(
            office=office,
            state=_stale(row.state) if row.age_s > stale_after_s or row.writer_id in gone
            else row.state,
            queue_depth=depth,
            in_flight=row.in_flight,
            writer_id=row.writer_id,
            serving=row.serving,
            seen_s_ago=row.age_s,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            pause=pause,
            parked=None,
            hold=None,
        )
        for row in rows
    ]


async def _from_database(
    settings: HubSettings, problems: list[str]
) -> tuple[list[LaneRow], Pauses, list[WriterRow]]:
    try:
        store = await ControlStore.open(settings.ledger_db, on_query=ignore_query)
    except HubError as exc:
        problems.append(f"hub database: {exc}")
        return [], Pauses(), []
    try:
        return await store.lanes(), await store.pauses(), await store.writers()
    except HubError as exc:
        problems.append(f"hub database: {exc}")
        return [], Pauses(), []
    finally:
        await store.close()


def _stale(state: str) -> str:
    return f"{STALE} ({state})"


def _writers(
    rows: Sequence[WriterRow], lines: Sequence[LaneLine], stale_s: float
) -> list[WriterLine]:
    """Each writer's share: the offices its fresh lane rows say it serves."""
    serving = Counter(
        line.writer_id for line in lines if line.serving and not line.state.startswith(STALE)
    )
    return [
        WriterLine(
            writer_id=row.writer_id, live=row.beat_s_ago <= stale_s, beat_s_ago=row.beat_s_ago,
            serving=serving[row.writer_id],
        )
        for row in rows
    ]


@dataclass(frozen=True, kw_only=True)
class _Custody:
    holds: Mapping[str, Hold]
    parked: Mapping[str, int]
    known: bool  # False: the hub database could not be read

    def parked_of(self, office: str) -> int | None:
        return self.parked.get(office, 0) if self.known else None


async def _custody(settings: HubSettings, problems: list[str]) -> _Custody:
    try:
        custody = await MySqlCustody.open(settings.ledger_db, on_query=ignore_query)
    except HubError as exc:
        problems.append(f"holds: {exc}")
        return _Custody(holds={}, parked={}, known=False)
    try:
        return _Custody(holds=await custody.holds(), parked=await custody.counts(), known=True)
    except HubError as exc:
        problems.append(f"holds: {exc}")
        return _Custody(holds={}, parked={}, known=False)
    finally:
        await custody.close()


async def _outcomes_waiting(settings: HubSettings, problems: list[str]) -> list[Waiting] | None:
    try:
        outbox = await MySqlOutbox.open(settings.ledger_db, on_query=ignore_query)
    except HubError as exc:
        problems.append(f"waiting outcomes: {exc}")
        return None
    try:
        return await outbox.waiting()
    except HubError as exc:
        problems.append(f"waiting outcomes: {exc}")
        return None
    finally:
        await outbox.close()


async def _depths(settings: HubSettings, problems: list[str]) -> dict[str, QueueDepth]:
    try:
        async with management_api(settings) as api:
            return {queue.name: queue for queue in await api.queue_depths()}
    except ManagementError as exc:
        problems.append(f"queue depths: {exc}")
        return {}


def _office_queue(name: str) -> bool:
    return name.startswith(OFFICE_QUEUE_PREFIX) and len(name) > len(OFFICE_QUEUE_PREFIX)
