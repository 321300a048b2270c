"""Each writer tells ``hub status`` what its lanes do: one ``lane_status`` row per office and
writer, rewritten on every state change (at most every ``MIN_INTERVAL_S``) and every heartbeat,
so a row that stops being refreshed means its writer is gone. A writer that stops cleanly
deletes its rows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable

from hub.control.board import LaneBoard
from hub.control.store import ControlStore
from hub.errors import HubError

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.2  # a burst of changes becomes one write
FORGET_AFTER_S = 24 * 3600  # rows of writers gone this long are deleted at a writer's start


def writer_id() -> str:
    """This process, recognisable by an operator: host, pid and a short random suffix."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LaneReporter:
    def __init__(
        self,
        store: ControlStore,
        board: LaneBoard,
        *,
        writer_id: str,
        heartbeat_s: float,
        serving: Callable[[str], bool],
    ) -> None:
        self._store = store
        self._board = board
        self._serving = serving
        self._writer_id = writer_id
        self._heartbeat_s = heartbeat_s

    async def run(self) -> None:
        """Report now, then on each change or heartbeat, until cancelled."""
        await self._forget_old()
        while True:
            self._board.changed.clear()
            await self._report()
            await asyncio.sleep(MIN_INTERVAL_S)
            try:
                async with asyncio.timeout(self._heartbeat_s):
                    await self._board.changed.wait()
            except TimeoutError:
                pass

    async def forget(self) -> None:
        """This writer is stopping: its rows go (a failure leaves them to turn stale)."""
        try:
            await self._store.forget_writer(self._writer_id)
        except HubError as exc:
            log.warning("could not remove this writer's lane status (%s)", exc)

    async def _report(self) -> None:
        self._board.measure_in_flight()
        try:
            await self._store.report(self._writer_id, self._board.reports(self._serving))
        except HubError as exc:
            log.warning("could not report lane status (%s)", exc)

    async def _forget_old(self) -> None:
        try:
            await self._store.forget_older_than(FORGET_AFTER_S)
        except HubError as exc:
            log.warning("could not delete old lane status (%s)", exc)
