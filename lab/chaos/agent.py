"""The chaos itself: a writer killed with SIGKILL at random moments, the broker restarted (on a
cluster: one node lost and brought back), one more writer joining at a set time.

Kills are spread over the work: the ``i``-th falls at a random point of the ``i``-th of
``kills + 1`` equal shares of the intents the ledger has settled, so each new writer makes
progress before the next kill and the last kill comes before the end. Broker restarts fall at
random points of equal shares of the intents published, so the vendors ride them out too, while
the writer works. A kill never overlaps a broker restart or the join. Each node loss is told to
the run's ``SpreadWatch`` (the fleet tells it of kills and the join itself).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from lab.chaos.fleet import WriterFleet
from lab.chaos.progress import Progress, RunState
from lab.chaos.spread import SpreadWatch
from lab.chaos.stack import RunBroker

POLL_S = 0.2
KILL_SHARE = (0.2, 0.9)  # where in its share of the work a kill may fall
RESTART_SHARE = (0.3, 0.7)


@dataclass(frozen=True, kw_only=True)
class Schedule:
    kill_at_settled: tuple[int, ...]
    restart_at_published: tuple[int, ...]

    @classmethod
    def draw(cls, *, intents: int, kills: int, restarts: int, seed: int) -> Schedule:
        draw = random.Random(seed)
        kill_share = intents / (kills + 1)
        restart_share = intents / restarts if restarts else 0.0
        return cls(
            kill_at_settled=tuple(
                int(kill_share * (i + draw.uniform(*KILL_SHARE))) for i in range(kills)
            ),
            restart_at_published=tuple(
                int(restart_share * (j + draw.uniform(*RESTART_SHARE))) for j in range(restarts)
            ),
        )


class Agent:
    def __init__(
        self, *, schedule: Schedule, state: RunState, writer: WriterFleet, node: RunBroker,
        progress: Progress, spread: SpreadWatch | None = None,
    ) -> None:
        self._schedule = schedule
        self._state = state
        self._writer = writer
        self._node = node
        self._progress = progress
        self._spread = spread
        self._turn = asyncio.Lock()  # one act at a time

    async def kill_writer(self) -> None:
        """Each scheduled kill once the ledger has settled that many intents."""
        for target in self._schedule.kill_at_settled:
            await self._until(self._settled, target)
            async with self._turn:
                await self._writer.kill()
                self._state.writer_kills = self._writer.kills
            self._progress(f"writer killed (SIGKILL) and restarted: kill {self._writer.kills}")

    async def restart_broker(self) -> None:
        """Each scheduled restart once the vendors have published that many intents."""
        for target in self._schedule.restart_at_published:
            await self._until(self._published, target)
            async with self._turn:
                # A node stops and starts; on a cluster, one node is killed and started again.
                self._progress(f"broker {self._node.name} restarting")
                started = asyncio.get_running_loop().time()
                lost = self._node.next_lost
                if self._spread is not None:
                    self._spread.change("node_loss", lost_node=lost)
                await self._node.restart()
                if self._spread is not None:
                    self._spread.node_back(lost)
                down_s = asyncio.get_running_loop().time() - started
                self._state.broker_restarts += 1
            self._progress(f"broker back after {down_s:.1f} s: restart "
                           f"{self._state.broker_restarts}")

    async def join_writer(self, after_s: float) -> None:
        """One more writer, ``after_s`` into the publishing."""
        await asyncio.sleep(after_s)
        async with self._turn:
            await self._writer.join()
        self._progress(f"one more writer joined: {self._writer.size} writers")

    def _settled(self) -> int:
        return self._state.settled

    def _published(self) -> int:
        return self._state.published.confirmed

    async def _until(self, count: Callable[[], int], target: int) -> None:
        while count() < target:
            self._state.writer_own_exits = len(self._writer.own_exits)
            await asyncio.sleep(POLL_S)
