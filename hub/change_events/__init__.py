"""change.v1 events: a vendor an office agreed may read a table learns of its rows' changes.

    watch ─▶ ChangeNotice (office, table, key, door, columns, time; who, for the hub only)
          ─▶ ChangeNotifier.notify
               record: one change_sends row per entitled vendor (a known one kept: never owed twice)
               deliver: per pending row, oldest first: the listed columns' current values read
                        through the office's read-only connection (by primary key), then
                        published on hub.outcomes (mandatory, confirmed), then settled ``sent``

- **Who is told.** Every vendor with a read agreement for the table at that office
  (``Registry.readers``), except the vendor whose own intent made the change: its outcome event
  told it already.
- **What is told.** Table, key, door, time and the changed columns' names; values only of the
  changed columns the agreement lists, as they are when the event is published (a later change
  has its own event). Never who made the change: another vendor's write says door ``hub`` only.
- **Once.** A change reported again finds its row and is not sent again; a publish the broker
  refused stays pending and goes out, in order, on the next pass. A crash between the broker's
  confirm and the row's settling sends it once more with the same ``event_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts import ChangeDoor


@dataclass(frozen=True, kw_only=True)
class ChangeNotice:
    """One change of one row, as the watch attributed it. ``columns`` are names only; the
    who-fields are for the hub's own records and never reach a vendor."""

    office: str
    table: str
    primary_key: int
    door: ChangeDoor
    columns: tuple[str, ...]
    changed_at: datetime  # aware, UTC
    vendor: str | None = None  # door hub: the vendor whose intent it was
    intent_id: int | None = None  # door hub
    user_num: int | None = None  # door open_dental_user
    dev_name: str | None = None  # door other_api
