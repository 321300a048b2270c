"""What the watch finds: a row seen changed, and the door its change came through.

Open Dental rows change through four doors (issue 19): a person in Open Dental, another API
developer, the hub, or a program writing the database directly. ``Attribution`` is the watch's
answer for one change; it carries ids and column names only, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts import ChangeDoor
from hub.opendental.reconcile_queries import OdTable

# The door a change came through: the change.v1 contract's own enum (hub, open_dental_user,
# other_api, unexplained), so one vocabulary runs from the watch to vendors' change events.
Door = ChangeDoor


class Source(StrEnum):
    """How the watch learned of the change."""

    SCAN = "scan"  # its own bounded read of the table
    EVENT = "event"  # Open Dental's API Subscriptions push


@dataclass(frozen=True, kw_only=True)
class SeenRow:
    """One row as a scan (or a read after an event) found it: its new stamp and, per column, a
    keyed digest of the value (hub/watch/digests.py)."""

    office_id: str
    table: OdTable
    key: int
    stamp: datetime  # DateTStamp / SecDateTEdit: the office's local time, no zone
    changed_at: datetime  # the same moment in UTC, as the office's database converts it
    digests: dict[str, str]
    row_digest: str  # one digest of all the column digests: the row's state


@dataclass(frozen=True, kw_only=True)
class Attribution:
    """One change of one row and the door it came through."""

    office_id: str
    table: OdTable
    key: int
    door: Door
    columns: tuple[str, ...]  # names of the columns that changed; all for a row first seen
    time: datetime  # UTC: when the row changed (its new stamp)
    stamp: datetime  # the same, as the office stores it (local, no zone)
    row_digest: str = ""  # the row's state after the change (see SeenRow)
    vendor: str | None = None  # door hub: the vendor whose intent made it
    intent_id: int | None = None  # door hub: that intent's ledger id
    user_num: int | None = None  # door open_dental_user: securitylog.UserNum
    dev_name: str | None = None  # door other_api (and hub): the DevName in the log's text
    securitylog_num: int | None = None  # the log row that explains it, if one does
    stale_hash: bool = False  # hashed columns changed and SecurityHash did not
    first_seen: bool = False  # the watch had no earlier state of the row
    source: Source = Source.SCAN
    # Door hub by the log's DevName, the intent not yet on record: asked again on later passes
    # and told to no vendor until then (hub/watch/scanner.py).
    intent_pending: bool = False
