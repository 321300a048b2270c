"""The writers under test: ``--writers`` supervised ``hub worker`` processes over the run's world,
each with its own log, metrics port (``HUB_METRICS_PORT=0``: a free one) and writer id (the
writer makes it from its host and process id), and one more when a writer joins.

A kill picks one of them (drawn from the run's seed) and sends it SIGKILL; its supervisor starts
the next writer in its place at once, with a new writer id. Every change of the writer set (a
kill, a join, a writer that exited by itself) is told to ``on_change`` once it is complete (the
killed writer reaped and the next started, the joining writer started) with the moment it began,
so that the run can time how long the offices take to settle after it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from lab.chaos.writer import WriterSupervisor

OnChange = Callable[[str, float], None]  # the event and its moment (the loop's time)


class WriterFleet:
    def __init__(
        self, env: Mapping[str, str], home: Path, *, writers: int, seed: int,
        on_change: OnChange | None = None,
    ) -> None:
        if writers < 1:
            raise ValueError("a fleet has at least one writer")
        self._env = dict(env)
        self._home = home
        self._size = writers
        self._draw = random.Random(f"writer kills {seed}")
        self.on_change = on_change
        self._writers: list[WriterSupervisor] = []

    async def start(self) -> None:
        for _ in range(self._size):
            await self._add()

    async def join(self) -> None:
        """One more writer; returns once it is started."""
        at = asyncio.get_running_loop().time()
        await self._add()
        self._changed("join", at)

    async def kill(self) -> None:
        """SIGKILL one writer, drawn; returns once the next one is started in its place."""
        chosen = self._draw.randrange(len(self._writers))
        at = asyncio.get_running_loop().time()
        await self._writers[chosen].kill()
        self._changed("kill", at)

    async def stop(self) -> None:
        """SIGTERM to every writer: each drains and exits; none is started again."""
        # Together: each may take its drain grace.
        await asyncio.gather(*(w.stop() for w in self._writers))

    def live_pids(self) -> frozenset[int]:
        """The process ids of the writers running now."""
        return frozenset(pid for w in self._writers if (pid := w.pid) is not None)

    @property
    def size(self) -> int:
        return len(self._writers)

    @property
    def kills(self) -> int:
        return sum(w.kills for w in self._writers)

    @property
    def starts(self) -> int:
        return sum(w.starts for w in self._writers)

    @property
    def own_exits(self) -> list[int]:
        return [code for w in self._writers for code in w.own_exits]

    @property
    def kill_times(self) -> list[datetime]:
        return sorted(t for w in self._writers for t in w.kill_times)

    async def _add(self) -> None:
        slot = len(self._writers) + 1
        # One writer keeps the log's old name, for the docs and the operators' habits.
        log = self._home / ("writer.log" if slot == 1 and self._size == 1 else
                            f"writer-{slot}.log")
        writer = WriterSupervisor(self._env, log, on_own_exit=self._own_exit)
        self._writers.append(writer)
        await writer.start()

    def _own_exit(self) -> None:
        self._changed("own_exit", asyncio.get_running_loop().time())

    def _changed(self, event: str, at: float) -> None:
        if self.on_change is not None:
            self.on_change(event, at)
