"""The bookkeeping a stopping worker must not cut in half: ledger result, outcome, ack.

Each piece runs as its own task under ``asyncio.shield``, so cancelling the lane that awaits it
leaves it running; the worker waits for what is still running before it closes the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


class Bookkeeping:
    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    async def run(self, work: Coroutine[Any, Any, _T]) -> _T:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    async def wait(self, timeout_s: float) -> int:
        """Wait for the bookkeeping still running; how many pieces did not finish in time."""
        if not self._running:
            return 0
        _, pending = await asyncio.wait(set(self._running), timeout=timeout_s)
        return len(pending)
