"""The attempt's window in the office's own clock.

Open Dental stamps its rows with the database server's local time and no zone (DateTStamp by
MySQL itself, the entry times by ``NOW()``), while the ledger keeps UTC. So the office database
converts the moment itself (``FROM_UNIXTIME`` applies the server's zone rules, daylight saving
included). A zone configured per office could disagree with the server it describes, and the
window would silently start too late: the lost row missed, then created twice.

One gap remains: if the clocks go back between the attempt's start and Open Dental's stamp,
the stamp reads up to an hour earlier than the converted start and the row is missed. Only an
attempt begun in the last seconds (its HTTP timeout) before the change can fall into it.
"""

from __future__ import annotations

import math
from datetime import datetime

from hub.errors import PermanentError
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.reconcile.verdicts import AttemptWindow

QUERY_NAME = "reconcile_window"


async def office_local_since(db: ReadOnlyDatabase, window: AttemptWindow) -> datetime:
    """The window's start (the attempt's start less the skew margin) in the office's local
    time, naive, to the second (rounded down, so the window only grows)."""
    epoch_s = math.floor(window.earliest.timestamp())
    rows = await db.select(QUERY_NAME, "SELECT FROM_UNIXTIME(%s) AS since_local", [epoch_s])
    since = rows[0]["since_local"] if rows else None
    if not isinstance(since, datetime):  # NULL: outside the range the server can convert
        raise PermanentError("the office database cannot place the attempt's start in its time")
    return since
