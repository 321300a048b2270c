"""Child processes (``hub sim``, ``hub worker``, the reference loop) and what /proc says of them.

A child's stdout and stderr go to one log file in the run's work directory; readiness is a line
in that log (or an answer on a port, which the caller polls). CPU time is utime + stime of
/proc/<pid>/stat, memory VmRSS and VmHWM of /proc/<pid>/status.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from lab.bench.config import BenchError

# The same interpreter and the same `hub` app, whether or not the `hub` script is on PATH.
HUB_ARGV = (sys.executable, "-c", "from hub.cli import main; main()")
STOP_TIMEOUT_S = 30.0
POLL_S = 0.05
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, kw_only=True)
class Child:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    started_at: float  # time.monotonic() just before the spawn

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, max_chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-max_chars:]

    async def wait_for_line(self, needle: str, timeout_s: float) -> float:
        """Until ``needle`` shows in the log; the monotonic time it was first seen."""
        give_up_at = time.monotonic() + timeout_s
        while time.monotonic() < give_up_at:
            if needle in self.log_path.read_text(errors="replace"):
                return time.monotonic()
            if self.process.returncode is not None:
                break
            await asyncio.sleep(POLL_S)
        raise self.failure(f"never logged {needle!r}")

    def failure(self, what: str) -> BenchError:
        code = self.process.returncode
        return BenchError(f"{self.name} {what} (exit code {code}); its log ends with:\n"
                          f"{self.log_tail()}")

    async def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not exited in time; the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode or 0


async def start_child(
    name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path
) -> Child:
    with log_path.open("wb") as log_file:  # the child keeps its own descriptor
        started_at = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL, env=dict(env),
        )
    return Child(name=name, process=process, log_path=log_path, started_at=started_at)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _TICKS_PER_S


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM): resident memory now and at its peak, in MiB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024  # kB
    return values["VmRSS"], values["VmHWM"]


@dataclass(frozen=True)
class MachineTimes:
    """The whole machine's CPU time so far, every core summed, from /proc/stat (in ticks)."""

    busy: int
    total: int

    def busy_share_since(self, earlier: MachineTimes) -> float:
        """Of the time since ``earlier``, the share all cores together were busy."""
        total = self.total - earlier.total
        return (self.busy - earlier.busy) / total if total > 0 else 0.0


def machine_times() -> MachineTimes:
    # user nice system idle iowait irq softirq steal (guest time is inside user already)
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    idle = ticks[3] + ticks[4]
    return MachineTimes(busy=sum(ticks) - idle, total=sum(ticks))


VENDOR_NICENESS = 10  # the vendors' side (this process) yields the cores to the hub's processes


@contextmanager
def yielding_cpu(niceness: int) -> Iterator[None]:
    """This process (its event loop's thread) at a lower priority for a while: the publishers
    and the outcome reader stand in for vendors, who do not share the hub's cores, so the hub's
    processes get them first. Set back afterwards where allowed (root, or CAP_SYS_NICE)."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, before + niceness)
    try:
        yield
    finally:
        with suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, 0, before)


MACHINE = "machine"  # every process together, all cores (from /proc/stat)


def listening_pid(port: int) -> int | None:
    """The process that listens on TCP ``port`` here (the broker, MariaDB, the simulator); None
    when none does, or when its sockets cannot be read. Linux only, from /proc."""
    inodes = {
        fields[9]
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for fields in (line.split() for line in Path(table).read_text().splitlines()[1:])
        if fields[3] == _LISTEN and int(fields[1].rpartition(":")[2], 16) == port
    }
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for process in Path("/proc").iterdir():
        if process.name.isdigit() and wanted and _holds_any(process, wanted):
            return int(process.name)
    return None


_LISTEN = "0A"  # the st column of /proc/net/tcp


def _holds_any(process: Path, sockets: set[str]) -> bool:
    with suppress(OSError):  # gone meanwhile, or not ours to read
        return any(os.readlink(fd) in sockets for fd in (process / "fd").iterdir())
    return False


def cpu_marks(pids: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process, and by the whole machine under
    ``MACHINE``; a process that has gone is left out."""
    marks = {MACHINE: machine_times().busy / _TICKS_PER_S}
    for name, pid in pids.items():
        with suppress(OSError):
            marks[name] = cpu_seconds(pid)
    return marks


def cpu_us_each(low: Mapping[str, float], high: Mapping[str, float],
                messages: int) -> dict[str, float]:
    """µs of CPU per message of each process between two ``cpu_marks``."""
    return {
        name: round((high[name] - low[name]) / messages * 1e6, 1)
        for name in low if name in high and messages > 0
    }


def load_average() -> float:
    """The one-minute load average: how busy the machine was (other work shares the cores)."""
    return os.getloadavg()[0]
