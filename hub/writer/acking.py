"""The one place a decision becomes a broker action: ack, or hold.

No step acks. A final outcome is acked only after settlement made it durable; anything else is
held by its lane, in place or parked (hub/writer/lanes.py), so the office's order holds and no
broker timer or counter ever decides for the hub. The writer hands a delivery back to the broker
(closing the lane's channel) only when it cannot keep it at all. An ack that fails (the channel
was lost) is logged and counted, never raised: the broker has the message back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum

import aiormq
from aio_pika.abc import AbstractIncomingMessage

from hub.writer.metrics import WriterMetrics
from hub.writer.verdict import Decision, Outcome

log = logging.getLogger(__name__)


class Action(StrEnum):
    ACK = "ack"
    HOLD = "hold"  # the lane keeps it and runs it again after the decision's delay


ACTIONS: Mapping[Outcome, Action] = {
    Outcome.APPLIED: Action.ACK,
    Outcome.DUPLICATE: Action.ACK,
    Outcome.REJECTED: Action.ACK,
    Outcome.DEAD: Action.ACK,
    Outcome.RETRY_LATER: Action.HOLD,
    Outcome.LANE_PAUSED: Action.HOLD,
    Outcome.CRASHED: Action.HOLD,
}

ACK_FAILURES = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,  # a RuntimeError: the channel is closed
    ConnectionError,
)


async def ack(message: AbstractIncomingMessage, office: str, metrics: WriterMetrics) -> None:
    try:
        await message.ack()
    except ACK_FAILURES as exc:
        metrics.ack_failed(office)
        log.warning("could not ack the message (%s); the broker will deliver it again",
                    type(exc).__name__, extra={"office": office})


async def act(
    message: AbstractIncomingMessage, decision: Decision, metrics: WriterMetrics
) -> Action:
    action = ACTIONS[decision.outcome]
    if action is Action.ACK:
        await ack(message, decision.about.office, metrics)
    return action
