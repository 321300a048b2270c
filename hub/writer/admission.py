"""Which delivered message an office's lane runs next: the port for operators' pauses.

The lane asks for its next message here instead of taking the inbox's head; hub/control's gate
answers, holding the messages of a paused office or vendor (unacked) and releasing them, in
delivery order, when the pause is lifted.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from aio_pika.abc import AbstractIncomingMessage


class Admission(Protocol):
    async def take(
        self, inbox: asyncio.Queue[AbstractIncomingMessage]
    ) -> AbstractIncomingMessage:
        """The next message the lane may run; the previous one is settled by now."""
        ...
