"""The writer's bound on the message bytes its lanes work on at once.

A delivery in hand costs its body; a delivery being worked on costs several times more (the text
it decodes to, the model's copy of a document's base64, the request body sent to Open Dental).
So a lane runs a large delivery (a document upload's) only once the writer has room for its
body among the large bodies being worked on (``HUB_WRITER__WORKING_BYTES``); the lane waits,
keeping the delivery unacked and in order, until there is. Room is granted first come, first
served; a body larger than the whole budget runs alone. Waiting costs no attempt and takes no
message back to the broker.

A small body (no larger than any contract's ceiling but the document upload's) never waits: an
office without documents is never slowed by another's documents (offices apart, invariant 3),
and what small bodies cost is bounded by the lanes' prefetch already.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from contracts.limits import SMALL_MAX_BYTES


class WorkingBytes:
    """A first-come, first-served byte semaphore shared by every lane of one writer."""

    def __init__(self, limit_bytes: int, *, unmetered_bytes: int = SMALL_MAX_BYTES) -> None:
        if limit_bytes < 1:
            raise ValueError("limit_bytes must be at least 1")
        self.limit_bytes = limit_bytes
        self.unmetered_bytes = unmetered_bytes
        self._used = 0
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def used_bytes(self) -> int:
        return self._used

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @asynccontextmanager
    async def room(self, size_bytes: int) -> AsyncIterator[None]:
        """Hold room for ``size_bytes`` while the block runs; wait for it first if need be. A
        small body passes at once."""
        if size_bytes <= self.unmetered_bytes:
            yield
            return
        if self._waiting or not self._fits(size_bytes):
            await self._queue_for(size_bytes)
        else:
            self._used += size_bytes
        try:
            yield
        finally:
            self._release(size_bytes)

    async def _queue_for(self, size_bytes: int) -> None:
        entry = (size_bytes, asyncio.get_running_loop().create_future())
        self._waiting.append(entry)
        try:
            await entry[1]
        except asyncio.CancelledError:
            if entry[1].done() and not entry[1].cancelled():
                self._release(size_bytes)  # granted as the waiter was cancelled
            else:
                with contextlib.suppress(ValueError):  # not already taken out by a grant
                    self._waiting.remove(entry)
                self._grant()  # the next in line may fit now
            raise

    def _fits(self, size_bytes: int) -> bool:
        return self._used == 0 or self._used + size_bytes <= self.limit_bytes

    def _release(self, size_bytes: int) -> None:
        self._used -= size_bytes
        self._grant()

    def _grant(self) -> None:
        while self._waiting and self._fits(self._waiting[0][0]):
            size_bytes, future = self._waiting.popleft()
            if not future.done():
                self._used += size_bytes
                future.set_result(None)
