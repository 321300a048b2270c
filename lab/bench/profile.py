"""The writer's CPU per intent, step by step: py-spy samples the ``hub worker`` process during
the ceiling's steady window, and each sample goes to the innermost pipeline step on its stack.

A step's share of the samples times the writer's CPU per intent (from /proc) is its cost in µs.
Only samples of the thread holding the GIL count (``--gil``): a socket send lets the GIL go,
and on a loaded machine the scheduler often hands the core to the process the send woke (the
broker, MariaDB), so without it a third of the samples sat in sends while the writer waited
for a core (cProfile with a CPU clock put sends at 1% of the writer's CPU). A thread holding
the GIL but waiting for a core still counts. Samples of the event loop waiting in epoll, and of
idle thread-pool threads, are left out.

The ledger's batches run in the group commit's own tasks and the broker's frames are read in
aiormq's: each is a step of its own, not part of the lane's step that waits for it.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections import Counter
from pathlib import Path

from lab.bench.config import BenchError

SAMPLES_PER_S = 200
OTHER = "event loop, HTTP replies, other"
# Innermost match wins; each needle is "function (file" as py-spy names a frame.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("validate", ("validate (intake.py",)),
    ("ledger claim", ("MySqlLedger.claim (",)),
    ("ledger retry_budget", ("MySqlLedger.retry_budget (",)),
    ("ledger resolve_ref", ("MySqlLedger.resolve_ref (",)),
    ("ledger begin_attempt", ("MySqlLedger.begin_attempt (",)),
    ("ledger record_api_call", ("MySqlLedger.record_api_call (",)),
    ("ledger release_attempt", ("MySqlLedger.release_attempt (",)),
    ("ledger finish", ("MySqlLedger.finish (",)),
    ("ledger batches (aiomysql)", ("GroupCommit.",)),
    ("HTTP (client, aiohttp)", ("OpenDentalClient.",)),
    ("outcome publish", ("AmqpPublisher.outcome (", "outcome_event (finishing.py")),
    ("dead letter", ("AmqpPublisher.dead_letter (",)),
    ("ack", ("ack (office_queue.py",)),
    ("AMQP in (aiormq, aio-pika)", ("Connection.__reader (", "consumer (queue.py")),
    ("AMQP out (aiormq)", ("Connection.__writer (",)),
    ("log line", ("_log (pipeline.py",)),
    ("metrics", ("WriterMetrics.", "HubMetrics.")),
    ("other pipeline and lane steps", ("Pipeline.", "Lane.", "Finisher.", "Applier.")),
)
_FRAME_FILE = re.compile(r" \((?:.*/)?([^/:)]+)(?::\d+)?\)")


def _frames(stack: str) -> list[str]:
    """Frames as "function (file", outermost first."""
    return [_FRAME_FILE.sub(r" (\1", frame) for frame in stack.split(";")]


def _step(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in STEPS:
            if any(needle in frame for needle in needles):
                return name
    return OTHER


def _idle(frames: list[str]) -> bool:
    return frames[-1].startswith("EpollSelector.select") or any(
        frame.startswith("Thread._bootstrap") for frame in frames
    )


def breakdown(raw: str, cpu_us_per_intent: float) -> dict[str, float]:
    """µs per intent by step, from py-spy's raw output ("frame;frame;... count" lines)."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = _frames(stack)
        if stack and not _idle(frames):
            counts[_step(frames)] += int(count)
    total = sum(counts.values())
    if total == 0:
        return {}
    return {
        name: round(samples / total * cpu_us_per_intent, 1)
        for name, samples in counts.most_common()
    }


async def sample(pid: int, seconds: float, out: Path) -> asyncio.subprocess.Process:
    """Start py-spy on ``pid`` for ``seconds``; await the process, then read ``out``."""
    spy = shutil.which("py-spy")
    if spy is None:
        raise BenchError("--profile needs py-spy on PATH (pip install py-spy)")
    return await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
        "--rate", str(SAMPLES_PER_S), "--format", "raw", "--output", str(out), "--nonblocking",
        "--gil",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
