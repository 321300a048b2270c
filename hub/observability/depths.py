"""Queue depths for the metrics, from RabbitMQ's management API every few seconds: each office
queue's ready messages (``hub_queue_depth``) and everything in ``hub.dead``
(``hub_dead_letter_depth``).

The management API, not a passive declare: a passive declare of a quorum queue reports 0
messages, and the API's counts (refreshed by the broker every few seconds) are right. One
request lists every queue. Each writer reports the same broker-wide numbers, so dashboards
should take ``max``, not ``sum``, across writers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from hub import names
from hub.broker_admin import ManagementApi
from hub.errors import HubError
from hub.observability.metrics import HubMetrics

log = logging.getLogger(__name__)


class DepthPoller:
    def __init__(
        self, api: ManagementApi, offices: Iterable[str], metrics: HubMetrics, *, poll_s: float
    ) -> None:
        self._api = api
        self._offices = tuple(offices)
        self._metrics = metrics
        self._poll_s = poll_s
        self._failing = False

    async def poll(self) -> None:
        """Read every depth once and set the gauges; a queue not found leaves its gauge as is."""
        depths = {queue.name: queue for queue in await self._api.queue_depths()}
        for office in self._offices:
            queue = depths.get(names.office_queue(office))
            if queue is not None:
                self._metrics.queue_depth(office, queue.messages_ready)
        dead = depths.get(names.DEAD_LETTER_QUEUE)
        if dead is not None:
            self._metrics.dead_letter_depth(dead.messages)

    async def run(self) -> None:
        """Poll now and every ``poll_s``, until cancelled; failures are logged, not raised."""
        while True:
            try:
                await self.poll()
            except HubError as exc:
                if not self._failing:
                    log.warning("cannot read queue depths (%s); the gauges keep their values", exc)
                self._failing = True
            else:
                self._failing = False
            await asyncio.sleep(self._poll_s)
