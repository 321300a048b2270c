"""The reference loop: the least a consumer must do per message, to measure the hub against.

Run as ``python -m lab.bench.reference SPEC.json`` by the ceiling scenario, in its own process
like the writer: one consumer per queue with the writer's prefetch, each taking its messages one
at a time, as a lane does: consume → one HTTP POST of the body (aiohttp, as many connections as
the writer's pool) → ack. No validation, no ledger, no outcome. It prints one line
``RESULT {json}``: messages done, errors (non-201), steady rate and CPU per message, its own and
that of the processes the spec names (the simulator, MariaDB, RabbitMQ: the ceiling's
per-process breakdown), taken at the same marks; then it waits for SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import aio_pika
import aiohttp
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from pydantic import BaseModel, ConfigDict

from lab.bench.procs import cpu_marks, cpu_us_each
from lab.bench.stats import steady_bounds

RESULT_PREFIX = "RESULT "
CREATED = 201


class ReferenceSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    broker_url: str
    queues: list[str]
    url: str  # POST target
    authorization: str
    prefetch: int
    connections: int
    expect: int  # messages in all the queues together
    timeout_s: float
    neighbours: dict[str, int] = {}  # name → pid of the processes whose CPU is taken too


@dataclass(frozen=True, kw_only=True)
class ReferenceResult:
    done: int
    errors: int
    per_s: float
    cpu_us_per_message: float
    cpu_us_by_process: dict[str, float]  # this loop's ("reference"), its neighbours', machine's


class _Tally:
    """Counts completions and takes the time and CPU at the steady window's two bounds."""

    def __init__(self, expect: int, neighbours: dict[str, int]) -> None:
        self.done = 0
        self.errors = 0
        self._low, self._high = steady_bounds(expect)
        self._marks: dict[int, tuple[float, float]] = {}
        self._watched = {"reference": os.getpid(), **neighbours}
        self._cpu_marks: dict[int, dict[str, float]] = {}
        self.finished = asyncio.Event()
        self._expect = expect

    def count(self, ok: bool) -> None:
        self.done += 1
        if not ok:
            self.errors += 1
        if self.done in (self._low, self._high):
            self._marks[self.done] = (time.monotonic(), time.process_time())
            self._cpu_marks[self.done] = cpu_marks(self._watched)
        if self.done >= self._expect:
            self.finished.set()

    def result(self) -> ReferenceResult:
        (t_low, cpu_low), (t_high, cpu_high) = self._marks[self._low], self._marks[self._high]
        messages = self._high - self._low
        return ReferenceResult(
            done=self.done,
            errors=self.errors,
            per_s=round(messages / (t_high - t_low), 1),
            cpu_us_per_message=round((cpu_high - cpu_low) / messages * 1e6, 1),
            cpu_us_by_process=cpu_us_each(
                self._cpu_marks[self._low], self._cpu_marks[self._high], messages
            ),
        )


async def _lane(
    channel: AbstractChannel, name: str, session: aiohttp.ClientSession, spec: ReferenceSpec,
    tally: _Tally,
) -> None:
    inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
    queue = await channel.get_queue(name, ensure=False)
    await queue.consume(inbox.put)
    while True:
        message = await inbox.get()
        try:
            async with session.post(spec.url, data=message.body) as response:
                await response.read()
                ok = response.status == CREATED
        except aiohttp.ClientError:
            ok = False
        await message.ack()
        tally.count(ok)


async def run_reference(spec: ReferenceSpec) -> None:
    """Consume until every message is done, then print the result."""
    tally = _Tally(spec.expect, spec.neighbours)
    headers = {"Authorization": spec.authorization, "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=spec.connections)
    connection = await aio_pika.connect(spec.broker_url)
    async with connection, aiohttp.ClientSession(connector=connector, headers=headers) as session:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=spec.prefetch)
        lanes = [
            asyncio.create_task(_lane(channel, name, session, spec, tally)) for name in spec.queues
        ]
        try:
            async with asyncio.timeout(spec.timeout_s):
                await tally.finished.wait()
        finally:
            for lane in lanes:
                lane.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
        sys.stdout.write(RESULT_PREFIX + json.dumps(asdict(tally.result())) + "\n")
        sys.stdout.flush()


def main(spec_path: str) -> None:
    spec = ReferenceSpec.model_validate_json(Path(spec_path).read_text())
    asyncio.run(run_reference(spec))


if __name__ == "__main__":
    main(sys.argv[1])
