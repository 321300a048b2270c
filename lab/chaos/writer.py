"""The writer under test, as a black box: ``hub worker`` processes pointed at the run's broker,
ledger and registry through ``HUB_*`` variables, one at a time, kept running by a supervisor.

``kill`` sends SIGKILL and the supervisor starts the next writer at once. A writer that exits by
itself (it could not reach the broker while it restarted, or it failed) is counted with its exit
code and started again after a pause; too many such exits end the run.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from lab.chaos.config import ChaosError
from lab.chaos.processes import hub_command, signal_group, spawn, wait_exit

RESTART_PAUSE_S = 1.0
MAX_OWN_EXITS = 50
DRAIN_GRACE_S = 45.0  # the writer's own drain grace is 20 s


class WriterSupervisor:
    def __init__(
        self, env: Mapping[str, str], log: Path, on_own_exit: Callable[[], None] | None = None
    ) -> None:
        self._env = dict(env)
        self._log = log
        self._on_own_exit = on_own_exit  # a fleet marks the change of its writer set
        self._process: asyncio.subprocess.Process | None = None
        self._started = asyncio.Event()
        self._killing = False
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.starts = 0
        self.kills = 0
        self.own_exits: list[int] = []  # exit codes of writers that ended without being killed
        # When each SIGKILL left, UTC: set against the ledger's recovery points (same machine).
        self.kill_times: list[datetime] = []

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="chaos writer supervisor")
        await self._wait_started()

    @property
    def pid(self) -> int | None:
        """The running writer's process id (its writer id holds it); None between writers."""
        process = self._process
        return None if process is None or process.returncode is not None else process.pid

    async def kill(self) -> None:
        """SIGKILL the running writer; returns once the next one is started."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        self._killing = True
        self._started.clear()
        self.kill_times.append(datetime.now(UTC))
        signal_group(process, signal.SIGKILL)
        self.kills += 1
        await self._wait_started()

    async def stop(self) -> None:
        """SIGTERM: the writer drains and exits; the supervisor starts no other."""
        self._closing = True
        process = self._process
        if process is not None:
            signal_group(process, signal.SIGTERM)
            if not await wait_exit(process, DRAIN_GRACE_S):
                signal_group(process, signal.SIGKILL)
                await wait_exit(process, DRAIN_GRACE_S)
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _wait_started(self) -> None:
        waiter = asyncio.create_task(self._started.wait())
        assert self._task is not None
        done, _ = await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._task in done:
            self._task.result()  # the supervisor gave up: raise its error
            raise ChaosError("the writer supervisor stopped")

    async def _supervise(self) -> None:
        while not self._closing:
            self.starts += 1
            with self._log.open("a", encoding="utf-8") as log:
                log.write(f"--- hub chaos: writer {self.starts} starts ---\n")
            self._process = process = await spawn([*hub_command(), "worker"], env=self._env,
                                                  log=self._log)
            self._started.set()
            code = await process.wait()
            if self._closing:
                return
            if self._killing:
                self._killing = False
                continue
            self.own_exits.append(code)
            if self._on_own_exit is not None:
                self._on_own_exit()
            if len(self.own_exits) > MAX_OWN_EXITS:
                raise ChaosError(f"the writer exited by itself {len(self.own_exits)} times; "
                                 f"see {self._log}")
            self._started.clear()
            await asyncio.sleep(RESTART_PAUSE_S)
