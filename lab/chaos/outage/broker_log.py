"""What the broker did by itself, from its node's own log: each time it timed a consumer out.

RabbitMQ 3.10.8 logs one error line per timeout, as it closes the channel:
``... precondition_failed: delivery acknowledgement on channel 2 timed out. Timeout value used:
4000 ms ...`` (beside a warning that names the consumer, which is not counted).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

CONSUMER_TIMEOUT = re.compile(r"delivery acknowledgement on channel \d+ timed out")


def count_consumer_timeouts(log_text: str) -> int:
    return len(CONSUMER_TIMEOUT.findall(log_text))


async def consumer_timeouts(log_file: Path) -> int:
    """Consumer timeouts in the node's log so far; 0 before it has one."""
    try:
        text = await asyncio.to_thread(log_file.read_text, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return 0
    return count_consumer_timeouts(text)
