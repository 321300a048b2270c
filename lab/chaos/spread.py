"""How the offices spread over the live writers after each change of the fleet, as the broker
shows it (which consumer its management API lists as active on each office queue).

A change (the run's start, a writer killed and another started in its place, a writer joining,
one that exited by itself, a broker node lost) has settled at the first look, taken once the
change is complete, where every office queue has exactly one active consumer, each on a writer
running now, and the live writers' shares differ by one at most. A node loss is complete once
the management API lists no connection on the lost node any more (or the node is back): until
then the API may still show the spread from before. Changes that come before the last one
settled settle together, each timed from its own moment.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from hub import names
from hub.broker_connection import WRITER_CONNECTION_PREFIX
from hub.management_nodes import FirstLiveNode, management_urls

POLL_S = 0.5
TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True, kw_only=True)
class Settled:
    """One change and the spread it settled to."""

    at_s: float  # when the change happened, from the start of publishing
    event: str  # start, kill, join, own_exit, node_loss
    writers: int | None = None  # live writers once settled; None: it never settled
    max: int | None = None  # offices of the busiest live writer
    min: int | None = None  # offices of the idlest live writer
    settle_s: float | None = None
    why: str | None = None  # never settled: what the last look showed

    @property
    def even(self) -> bool:
        return self.max is not None and self.min is not None and self.max - self.min <= 1


def spread(active: Mapping[str, Sequence[int]], live: Iterable[int]) -> tuple[int, int] | None:
    """(max, min) offices per live writer when every office has exactly one active consumer,
    on a live writer, and the shares differ by one at most; None otherwise. ``active``: office
    → the process id of each of its active consumers."""
    return None if unsettled_by(active, live) else _shares(active, live)


def unsettled_by(active: Mapping[str, Sequence[int]], live: Iterable[int]) -> str | None:
    """Why a look has not settled (the first reason found), for the report; None if it has."""
    live = frozenset(live)
    if not live:
        return "no writer is live"
    for office, pids in sorted(active.items()):
        if len(pids) != 1:
            return f"{office} has {len(pids)} active consumers"
        if pids[0] not in live:
            return f"{office}'s active consumer is on writer {pids[0]}, not live"
    high, low = _shares(active, live)
    if high - low > 1:
        return f"offices per writer {high}/{low}"
    return None


def _shares(active: Mapping[str, Sequence[int]], live: frozenset[int] | Iterable[int]
            ) -> tuple[int, int]:
    shares = Counter(pids[0] for pids in active.values() if pids)
    counts = [shares[pid] for pid in frozenset(live)]
    return max(counts), min(counts)


def writer_pid(connection_name: str) -> int | None:
    """The process id in a writer's connection name (``hub writer host:pid:suffix``)."""
    if not connection_name.startswith(WRITER_CONNECTION_PREFIX):
        return None
    parts = connection_name.removeprefix(WRITER_CONNECTION_PREFIX).split(":")
    return int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else None


class _Connection(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    node: str = ""
    client_properties: dict[str, object] = Field(default_factory=dict)


class _Consumer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    queue: dict[str, object]
    active: bool = False
    # A channel the API has not described yet (or no longer) lists as [].
    channel_details: dict[str, object] | list[object] = Field(default_factory=dict)


_CONNECTIONS = TypeAdapter(list[_Connection])
_CONSUMERS = TypeAdapter(list[_Consumer])


@dataclass(frozen=True, kw_only=True)
class Look:
    active: dict[str, list[int]]  # office → the writer process of each active consumer
    nodes: frozenset[str]  # the nodes the listed connections sit on


async def look(management_url: str, offices: Iterable[str]) -> Look | None:
    """The broker's active consumers of the office queues; None when the API does not answer."""
    queues = {names.office_queue(office): office for office in offices}
    nodes = management_urls(management_url)
    transport = FirstLiveNode(nodes, httpx.AsyncHTTPTransport())
    try:
        async with httpx.AsyncClient(base_url=nodes[0], auth=("guest", "guest"), timeout=TIMEOUT,
                                     transport=transport) as client:
            consumers = (await client.get("/api/consumers/%2F")).raise_for_status()
            connections = (await client.get("/api/connections", params={
                "columns": "name,node,client_properties"})).raise_for_status()
    except httpx.HTTPError:
        return None
    listed = _CONNECTIONS.validate_json(connections.content)
    pids = {c.name: writer_pid(str(c.client_properties.get("connection_name") or ""))
            for c in listed}
    active: dict[str, list[int]] = {office: [] for office in queues.values()}
    for consumer in _CONSUMERS.validate_json(consumers.content):
        office = queues.get(str(consumer.queue.get("name")))
        if office is None or not consumer.active:
            continue
        details = consumer.channel_details
        connection = str(details.get("connection_name", "?")) if isinstance(details, dict) else "?"
        active[office].append(pids.get(connection) or -1)
    return Look(active=active, nodes=frozenset(c.node for c in listed))


@dataclass(kw_only=True)
class _Pending:
    at: float
    event: str
    lost_node: str | None = None  # until the API lists no connection on it, or it is back


@dataclass(kw_only=True)
class SpreadWatch:
    """Times each change of the fleet until the offices settle, polling only while one waits."""

    management_url: str
    offices: tuple[str, ...]
    live: Callable[[], frozenset[int]]  # the writers' process ids now
    started: float  # the loop's time publishing began
    progress: Callable[[str], None] = lambda line: None  # a line per settle, as it happens
    settled: list[Settled] = field(default_factory=list)
    _pending: list[_Pending] = field(default_factory=list)
    _why: str | None = None  # why the last look had not settled
    _wake: asyncio.Event = field(default_factory=asyncio.Event)  # a change waits
    _quiet: asyncio.Event = field(default_factory=asyncio.Event)  # none waits

    def change(self, event: str, at: float | None = None, *, lost_node: str | None = None
               ) -> None:
        now = asyncio.get_running_loop().time()
        self._pending.append(_Pending(at=now if at is None else at, event=event,
                                      lost_node=lost_node))
        self._quiet.clear()
        self._wake.set()

    def node_back(self, node: str) -> None:
        for pending in self._pending:
            if pending.lost_node == node:
                pending.lost_node = None

    @property
    def waiting(self) -> bool:
        return bool(self._pending)

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
            await self.poll()
            await asyncio.sleep(POLL_S)

    async def poll(self) -> None:
        loop = asyncio.get_running_loop()
        live = self.live()  # before the look: a writer gone since is seen as gone
        seen = await look(self.management_url, self.offices)
        if seen is None or not self._pending:
            self._why = "the management API did not answer" if seen is None else None
            return
        now = loop.time()
        self._why = unsettled_by(seen.active, live)
        if self._why is not None:
            return
        ready = [p for p in self._pending if p.lost_node is None or p.lost_node not in seen.nodes]
        if len(ready) < len(self._pending):
            # A node loss the API does not show yet: this look may be from before it.
            self._why = "the management API still lists connections on the lost node"
            return
        judged = _shares(seen.active, live)
        for pending in self._pending:
            self.settled.append(Settled(
                at_s=round(pending.at - self.started, 1), event=pending.event,
                writers=len(live), max=judged[0], min=judged[1],
                settle_s=round(now - pending.at, 2),
            ))
        self.progress(f"settled: {', '.join(p.event for p in self._pending)}; {len(live)} "
                      f"writers, offices per writer {judged[0]}/{judged[1]}, after "
                      f"{now - self._pending[0].at:.1f} s")
        self._pending.clear()
        self._quiet.set()

    async def wait_settled(self, timeout_s: float) -> None:
        """Until nothing waits (``run`` must be running), or the timeout; what never settled is
        listed without a spread."""
        if self._pending:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), timeout_s)
        for pending in self._pending:
            self.settled.append(Settled(at_s=round(pending.at - self.started, 1),
                                        event=pending.event, why=self._why))
        self._pending.clear()
        self.settled.sort(key=lambda s: s.at_s)


@dataclass(frozen=True, kw_only=True)
class SpreadFigures:
    writers: int  # at the start
    joined: int
    changes: tuple[Settled, ...]

    @property
    def unsettled(self) -> int:
        return sum(1 for c in self.changes if c.settle_s is None)

    def worst(self) -> dict[int, tuple[int, int]]:
        """By number of live writers (a join changes the average), the highest max and the
        lowest min any settled change of that many writers had."""
        worst: dict[int, tuple[int, int]] = {}
        for c in self.changes:
            if c.writers is None or c.max is None or c.min is None:
                continue
            high, low = worst.get(c.writers, (c.max, c.min))
            worst[c.writers] = (max(high, c.max), min(low, c.min))
        return dict(sorted(worst.items()))

    def handover_s(self) -> dict[str, float | None]:
        times = sorted(c.settle_s for c in self.changes if c.settle_s is not None)
        return {"p50": round(statistics.median(times), 2) if times else None,
                "max": max(times) if times else None}

    @property
    def ok(self) -> bool:
        """Every change settled, evenly (a settled look is even by definition: checked anyway)."""
        return all(c.settle_s is not None and c.even for c in self.changes)
