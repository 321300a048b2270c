"""How far the run is, for its schedule and its progress lines: the broker's confirms counted as
they come, and the ledger's intents per status polled every second. These counters only drive
the run and inform the operator; the accounting at the end never uses them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.ledger.models import TERMINAL_STATUSES
from hub.settings import MySqlSettings
from lab.chaos.ledger_rows import status_counts
from lab.chaos.publishing import Tally

POLL_S = 1.0
LINE_EVERY_S = 5.0

Progress = Callable[[str], None]


@dataclass(kw_only=True)
class RunState:
    planned: int  # publishes planned, re-sends included
    published: Tally = field(default_factory=Tally)
    ledger: Counter[str] = field(default_factory=Counter)
    writer_kills: int = 0
    broker_restarts: int = 0
    writer_own_exits: int = 0
    started_at: float = 0.0

    @property
    def settled(self) -> int:
        """Intents the ledger holds in a terminal status."""
        return sum(n for status, n in self.ledger.items() if status in TERMINAL_STATUSES)

    def line(self, now: float) -> str:
        ledger = self.ledger
        in_flight = ledger["received"] + ledger["attempting"]
        return (
            f"{now - self.started_at:6.0f} s  published {self.published.confirmed}/{self.planned}"
            f"  ledger: applied {ledger['applied']} rejected {ledger['rejected']}"
            f" dead {ledger['dead']} in flight {in_flight}"
            f"  writer kills {self.writer_kills} (own exits {self.writer_own_exits})"
            f"  broker restarts {self.broker_restarts}"
        )


async def follow_ledger(state: RunState, ledger_db: MySqlSettings, progress: Progress) -> None:
    """Poll the ledger's counts until cancelled; a progress line every few seconds."""
    loop = asyncio.get_running_loop()
    last_line = loop.time()
    while True:
        state.ledger = await status_counts(ledger_db)
        now = loop.time()
        if now - last_line >= LINE_EVERY_S:
            progress(state.line(now))
            last_line = now
        await asyncio.sleep(POLL_S)
