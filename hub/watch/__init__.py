"""``hub watch``: every change in an office's Open Dental rows, attributed to the door it came
through (the hub, a person in Open Dental, another API developer, or nobody who says so).

``tables`` names what is read and how (bounded, indexed, read-only), ``digests`` turns a row into
per-column digests, ``attribute`` decides the door, ``store`` keeps cursors, rows' digests and
changes in the hub database, ``scanner`` watches one office, ``receiver`` takes Open Dental's
event pushes, ``run`` puts it together, ``views`` renders ``hub changes``.
"""

from hub.watch.model import Attribution, Door, SeenRow, Source
from hub.watch.run import Watch, handle_event, opened_watch, run_watch, scan_once
from hub.watch.scanner import OfficeWatcher, ScanResult, next_interval
from hub.watch.store import WatchStore

__all__ = [
    "Attribution",
    "Door",
    "OfficeWatcher",
    "ScanResult",
    "SeenRow",
    "Source",
    "Watch",
    "WatchStore",
    "handle_event",
    "next_interval",
    "opened_watch",
    "run_watch",
    "scan_once",
]
