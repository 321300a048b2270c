"""Every writer's view of the operators' pauses: read from the hub database every poll, so a
``hub office|vendor pause`` reaches every writer within about one poll.

When the database cannot be read, the last pauses read stay in force (a pause is never lifted
because the database is away) and the failure is logged once, with its recovery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hub.control.model import Pauses
from hub.control.store import ControlStore
from hub.errors import HubError

log = logging.getLogger(__name__)


class PauseWatcher:
    def __init__(
        self, store: ControlStore, *, poll_s: float, on_change: Callable[[Pauses], None]
    ) -> None:
        self._store = store
        self._poll_s = poll_s
        self._on_change = on_change
        self._current = Pauses()
        self._failing = False

    def current(self) -> Pauses:
        return self._current

    async def refresh(self) -> None:
        """Read the pauses now; raises when the database cannot be read."""
        pauses = await self._store.pauses()
        if pauses != self._current:
            self._current = pauses
            log.info("pauses in force: offices %s, vendors %s",
                     sorted(pauses.offices) or "-", sorted(pauses.vendors) or "-")
            self._on_change(pauses)

    async def run(self) -> None:
        """Refresh every poll, until cancelled."""
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                await self.refresh()
            except HubError as exc:
                if not self._failing:
                    log.warning("cannot read pauses (%s); keeping the last ones read", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("pauses readable again")
                self._failing = False
