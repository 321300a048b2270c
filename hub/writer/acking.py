"""The one place a decision becomes a broker action: ack, hand back, or hold.

No step acks. A final outcome is acked only after settlement made it durable; a held message
stays unacked while its lane waits and runs it again in place, so the office's order holds. An
ack that fails (the channel was lost and reconnected) is logged and counted, never raised: the
broker redelivers the message and the ledger knows it.
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
    REQUEUE = "requeue"  # nack with requeue: the broker delivers it again
    HOLD = "hold"  # unacked; the lane runs it again after the decision's delay


ACTIONS: Mapping[Outcome, Action] = {
    Outcome.APPLIED: Action.ACK,
    Outcome.DUPLICATE: Action.ACK,
    Outcome.REJECTED: Action.ACK,
    Outcome.DEAD: Action.ACK,
    Outcome.RETRY_LATER: Action.HOLD,
    Outcome.LANE_PAUSED: Action.HOLD,
    Outcome.REDELIVER: Action.REQUEUE,
    Outcome.CRASHED: Action.REQUEUE,
}

ACK_FAILURES = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,  # a RuntimeError: the channel is closed
    ConnectionError,
)


async def act(
    message: AbstractIncomingMessage, decision: Decision, metrics: WriterMetrics
) -> Action:
    action = ACTIONS[decision.outcome]
    try:
        if action is Action.ACK:
            await message.ack()
        elif action is Action.REQUEUE:
            await message.nack(requeue=True)
    except ACK_FAILURES as exc:
        metrics.ack_failed(decision.about.office)
        log.warning(
            "could not %s the message (%s); the broker will deliver it again",
            action.value, type(exc).__name__, extra=decision.about.log_fields(),
        )
    return action
