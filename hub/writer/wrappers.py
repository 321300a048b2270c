"""Cross-cutting concerns around ``process``: ``(delivery, call_next)`` wrappers.

The first wrapper is the outermost: its "before" runs first and its "after" last. A wrapper never
decides the outcome; an error in its own work is logged and counted, and the decision stands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from hub.writer.constants import UNKNOWN_CONTRACT
from hub.writer.delivery import Delivery
from hub.writer.logs import log_context
from hub.writer.metrics import WriterMetrics
from hub.writer.verdict import Decision

log = logging.getLogger(__name__)

Process = Callable[[Delivery], Awaitable[Decision]]


class Wrapper(Protocol):
    name: str

    async def __call__(self, delivery: Delivery, call_next: Process) -> Decision: ...


def wrap(process: Process, wrappers: Sequence[Wrapper]) -> Process:
    wrapped = process
    for wrapper in reversed(wrappers):
        wrapped = _bind(wrapper, wrapped)
    return wrapped


def _bind(wrapper: Wrapper, call_next: Process) -> Process:
    async def bound(delivery: Delivery) -> Decision:
        return await wrapper(delivery, call_next)

    return bound


class LogDecisions:
    """Every log line of a delivery names its office and message; one line says the decision."""

    name = "log"

    def __init__(self, metrics: WriterMetrics) -> None:
        self._metrics = metrics

    async def __call__(self, delivery: Delivery, call_next: Process) -> Decision:
        with log_context(office=delivery.office, message_id=delivery.message_id):
            decision = await call_next(delivery)
            try:
                self._log(decision)
            except Exception:  # a logging failure must not change what happens to the message
                self._metrics.wrapper_failed(self.name)
        return decision

    @staticmethod
    def _log(decision: Decision) -> None:
        fields: dict[str, object] = {**decision.about.log_fields(), "outcome": decision.outcome}
        if decision.reason is not None:
            fields["reason"] = decision.reason
        if decision.cause is not None:
            fields["cause"] = decision.cause
        if decision.delay_s:
            fields["delay_s"] = round(decision.delay_s, 3)
        log.info("%s", decision.outcome.value, extra=fields)


class MeasureDecisions:
    """Counts redeliveries, decisions by office, outcome and reason, and holds by cause; times
    each delivery."""

    name = "measure"

    def __init__(self, metrics: WriterMetrics) -> None:
        self._metrics = metrics

    async def __call__(self, delivery: Delivery, call_next: Process) -> Decision:
        try:  # before the run: a message that crashes the pipeline is the one to see redelivered
            self._metrics.redelivered(delivery)
        except Exception:
            log.exception("measuring a redelivery failed")
            self._metrics.wrapper_failed(self.name)
        started = time.perf_counter()
        decision = await call_next(delivery)
        try:
            self._metrics.decided(delivery, decision, time.perf_counter() - started)
            if decision.cause is not None:
                about = decision.about
                contract = about.contract or UNKNOWN_CONTRACT
                self._metrics.retry(about.office, contract, decision.cause.value)
        except Exception:  # a metrics failure must not change what happens to the message
            log.exception("measuring a decision failed")
            self._metrics.wrapper_failed(self.name)
        return decision
