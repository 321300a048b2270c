"""Which message an office's lane runs next, under the operators' pauses.

Office paused: the lane takes nothing. Messages the broker had already delivered to it (up to
the prefetch) are held, unacked, and the broker keeps the rest; the message in flight when the
pause came finishes. Vendor paused: the lane holds that vendor's messages, unacked and
unprocessed, and goes on with the other vendors' messages, until the held ones fill the prefetch.
On resume the held messages run first, in delivery order, so one vendor's messages keep their
order; the order between vendors within the office may change while a vendor is paused.

Nothing is nacked: a nack would put the message back at the queue's head only to be delivered
again at once, in a loop. A held message whose channel closed is dropped here: the broker
delivers it again on the new channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiormq
from aio_pika.abc import AbstractIncomingMessage

from hub.control.model import Pauses

Inbox = asyncio.Queue[AbstractIncomingMessage]


class LaneGate:
    def __init__(self, office: str, pauses: Callable[[], Pauses], *, recheck_s: float) -> None:
        self.office = office
        self._pauses = pauses
        self._recheck_s = recheck_s  # how often held messages are looked at again
        self._held: list[AbstractIncomingMessage] = []
        self._inbox: Inbox | None = None
        self._taken = False  # the lane is running the last message handed out

    def in_flight(self) -> int:
        """Messages delivered to this lane and not yet settled: waiting, held or running."""
        waiting = 0 if self._inbox is None else self._inbox.qsize()
        return waiting + len(self._held) + int(self._taken)

    async def take(self, inbox: Inbox) -> AbstractIncomingMessage:
        """The next message the lane may run; the previous one is settled by now."""
        self._inbox, self._taken = inbox, False
        while (message := self._release()) is None:
            received = await self._receive(inbox)
            if received is not None:
                # Behind the held ones: a vendor resumed meanwhile has its older messages there.
                self._held.append(received)
        self._taken = True
        return message

    def _release(self) -> AbstractIncomingMessage | None:
        """The first message in delivery order that may run now, if any; those of closed
        channels are dropped."""
        self._held = [message for message in self._held if not _gone(message)]
        for index, message in enumerate(self._held):
            if not self._must_hold(message):
                return self._held.pop(index)
        return None

    async def _receive(self, inbox: Inbox) -> AbstractIncomingMessage | None:
        """The next delivery; None after ``recheck_s`` when messages are held (a resume may
        have freed them)."""
        if not self._held:
            return await inbox.get()
        try:
            async with asyncio.timeout(self._recheck_s):
                return await inbox.get()
        except TimeoutError:
            return None

    def _must_hold(self, message: AbstractIncomingMessage) -> bool:
        pauses = self._pauses()
        return pauses.office_paused(self.office) or pauses.vendor_paused(message.user_id)


def _gone(message: AbstractIncomingMessage) -> bool:
    try:
        return message.channel.is_closed  # the property raises once the channel is closed
    except aiormq.exceptions.ChannelInvalidStateError:
        return True
