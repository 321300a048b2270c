"""Every writer's view of the operators' pauses, of the offices' custody and of the live writers,
read from the hub database every poll, when the writer also beats: a ``hub office|vendor
pause`` reaches every writer within about one poll, and so does another writer's hold on an
office (hub/custody) and a writer that joined or died. From the live writers each writer
computes which one serves each office (hub/control/ownership.py), counting itself live
whatever the database says.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from hub.control.model import ControlView, Pauses
from hub.control.ownership import assign, served_by
from hub.control.store import ControlStore
from hub.custody import Custody
from hub.errors import HubError

log = logging.getLogger(__name__)


class ControlWatcher:
    def __init__(
        self,
        store: ControlStore,
        custody: Custody,
        *,
        offices: Sequence[str],
        writer_id: str,
        poll_s: float,
        writer_stale_s: float,
        on_pauses: Callable[[Pauses], None],
        on_parked: Callable[[Mapping[str, int]], None],
        on_owned: Callable[[int], None],
    ) -> None:
        self._store = store
        self._custody = custody
        self._offices = tuple(offices)
        self._me = writer_id
        self._poll_s = poll_s
        self._writer_stale_s = writer_stale_s
        self._on_pauses = on_pauses
        self._on_parked = on_parked
        self._on_owned = on_owned
        self._view = ControlView()
        self._failing = False
        self._listeners: list[asyncio.Event] = []

    def current(self) -> Pauses:
        return self._view.pauses

    def view(self) -> ControlView:
        return self._view

    def listen(self) -> asyncio.Event:
        """An event set after every read that changed the view (the lane clears it)."""
        event = asyncio.Event()
        self._listeners.append(event)
        return event

    async def refresh(self) -> None:
        """Beat (this writer is alive), then read the view; raises when the database cannot be
        written or read."""
        await self._store.beat(self._me)
        pauses = await self._store.pauses()
        holds = await self._custody.holds()
        parked = await self._custody.parked_summary()
        live = await self._store.live_writers(self._writer_stale_s) | {self._me}
        before = self._view
        owners = before.owners
        if live != before.live_writers:
            # 10,000 offices by 30 writers take the better part of a second: off the loop.
            owners = await asyncio.to_thread(assign, self._offices, live)
        self._view = ControlView(
            pauses=pauses, holds=holds, parked=parked, live_writers=live, owners=owners,
            read_at_s=time.monotonic(),
        )
        if live != before.live_writers:
            log.info("%d live writer(s); this one serves %d of %d office(s)", len(live),
                     len(served_by(owners, self._me)), len(self._offices))
            self._on_owned(len(served_by(owners, self._me)))
        if pauses != before.pauses:
            log.info("pauses in force: offices %s, vendors %s",
                     sorted(pauses.offices) or "-", sorted(pauses.vendors) or "-")
            self._on_pauses(pauses)
        self._on_parked(self._view.parked_counts())
        if not self._view.same_state(before):
            for event in self._listeners:
                event.set()

    async def run(self) -> None:
        """Refresh every poll, until cancelled."""
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                await self.refresh()
            except HubError as exc:
                if not self._failing:
                    log.warning("cannot read pauses and holds (%s); keeping the last read", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("pauses and holds readable again")
                self._failing = False
