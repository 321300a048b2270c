"""Whose door each change of the run came through (issue 19), pure: the hub's own writes from
the ledger, the rogue's direct writes as it recorded them, and the watch's attributions from the
hub database.

- A hub change is one (intent, table, key) an applied intent wrote, in a table the watch scans:
  a 2xx POST or PUT of the intent that named the row's key, or the intent's own row when its
  write got no reply (commit-then-drop, the row found again by reconciliation) and no later
  2xx write named it.
- It is attributed when an attribution of its office names its intent. A scan sees a row once
  however often it changed since the last scan, so a change is also attributed when the first
  attribution of the row at its office from its write on (stamps to the second, so from one
  second before the write began) names another hub intent that wrote the row after it: both
  writes fell between the same two scans, and the later one is the row's state.
- Otherwise, when that first attribution is door ``hub`` naming no intent, the change is counted
  ``hub_intent_unknown``: the watch read the row before the ledger knew the intent's row (a write
  whose reply was lost is tied to its row only when reconciliation finds it, an attempt timeout
  later) and named the hub by the DevName in the log; when it is door ``hub`` naming an intent
  that wrote the row earlier, ``hub_other_intent``. Both are listed and fail the run: the door is
  right, the intent is not named. Anything else (no attribution, or another door) is a miss.
- Every attribution (of any office: offices may share a database) of a row the hub wrote that
  is not door ``hub`` is counted in ``hub_unexplained``, whatever the accounting above says.
- A rogue change is flagged when an ``unexplained`` attribution of its row carries the very
  DateTStamp the rogue's write left. The rogue changes a row again only after two scans, so none
  of its changes is collapsed into another.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from hub.watch.model import Door

STAMP_RESOLUTION = timedelta(seconds=1)  # DateTStamp keeps whole seconds
LISTED_MAX = 50
WRITE_METHODS = ("POST", "PUT")
# The first path segment of an Open Dental API write and the table it writes.
TABLE_OF_RESOURCE = {
    "patients": "patient", "appointments": "appointment", "commlogs": "commlog",
    "payments": "payment", "documents": "document", "patfields": "patfield",
    "allergies": "allergy", "medicationpats": "medicationpat", "diseases": "disease",
}


def table_of_path(path: str) -> str | None:
    """The table an API path writes (``/patients/12`` -> patient); None for sheets and the like."""
    for segment in urlsplit(path).path.split("/"):
        if segment in TABLE_OF_RESOURCE:
            return TABLE_OF_RESOURCE[segment]
    return None


@dataclass(frozen=True, kw_only=True)
class WriteCall:
    """One POST or PUT of an applied intent, from the ledger."""

    intent_id: int
    vendor: str
    idempotency_key: str
    office_id: str
    intent_table: str | None  # intents.od_table
    intent_key: int | None  # intents.od_primary_key
    method: str
    path: str
    status: int | None  # None: no reply
    key: int | None  # the key the reply named
    started_at: datetime  # UTC


@dataclass(frozen=True, kw_only=True)
class LostAttempt:
    """An applied intent with an attempt the ledger holds no call of: its writer was killed
    while the call was out, and reconciliation found its write in Open Dental."""

    intent_id: int
    vendor: str
    idempotency_key: str
    office_id: str
    table: str  # intents.od_table
    key: int  # intents.od_primary_key
    received_at: datetime  # UTC: the call started after it, and no later intent's did before


@dataclass(frozen=True, kw_only=True)
class HubWrite:
    intent_id: int
    vendor: str
    idempotency_key: str
    office_id: str
    table: str
    key: int
    started_at: datetime  # UTC: the first call that wrote the row


def hub_writes(
    calls: Sequence[WriteCall], scanned: Collection[str], lost: Sequence[LostAttempt] = ()
) -> list[HubWrite]:
    """The rows applied intents wrote, one per (intent, table, key), in the scanned tables: by
    their recorded calls, and by the attempts whose calls went unrecorded (``lost``)."""
    writes: dict[tuple[int, str, int], HubWrite] = {}

    def add(call: WriteCall | LostAttempt, table: str | None, key: int | None,
            started_at: datetime) -> None:
        if table is None or key is None or table not in scanned:
            return
        found = writes.get((call.intent_id, table, key))
        if found is None or started_at < found.started_at:
            writes[(call.intent_id, table, key)] = HubWrite(
                intent_id=call.intent_id, vendor=call.vendor,
                idempotency_key=call.idempotency_key, office_id=call.office_id, table=table,
                key=key, started_at=started_at,
            )

    for attempt in lost:
        add(attempt, attempt.table, attempt.key, attempt.received_at)

    for call in calls:
        if call.method not in WRITE_METHODS:
            continue
        table = table_of_path(call.path)
        if call.status is not None and 200 <= call.status < 300:
            add(call, table, call.key, call.started_at)
        elif call.status is None and table == call.intent_table:
            # its reply lost; reconciliation found the row
            add(call, table, call.intent_key, call.started_at)
    return sorted(writes.values(), key=lambda w: (w.started_at, w.intent_id))


@dataclass(frozen=True, kw_only=True)
class Seen:
    """One attribution the watch stored, as the accounting needs it."""

    office_id: str
    table: str
    key: int
    door: Door
    intent_id: int | None
    stamp: datetime  # the office's DateTStamp
    changed_at: datetime  # UTC


@dataclass(frozen=True, kw_only=True)
class RogueChange:
    office_id: str
    table: str
    key: int
    act: str  # insert, update, update_hashed
    stamp: datetime  # the DateTStamp the write left (office local)
    at: datetime  # UTC, just after the write


@dataclass(frozen=True, kw_only=True)
class Miss:
    vendor: str
    idempotency_key: str
    table: str
    key: int
    doors: tuple[str, ...]  # the doors the watch gave the row at the intent's office

    def named(self) -> dict[str, object]:
        return {"vendor": self.vendor, "idempotency_key": self.idempotency_key,
                "table": self.table, "key": self.key, "doors": list(self.doors)}


@dataclass(frozen=True, kw_only=True)
class DoorAccounting:
    hub_changes: int
    hub_attributed: int
    hub_collapsed: int  # of the attributed: through a later intent's write in the same scan
    hub_intent_unknown: tuple[Miss, ...]  # door hub, seen before the ledger knew the intent's row
    hub_other_intent: tuple[Miss, ...]  # door hub, naming an earlier intent of the row
    hub_unexplained: int  # attributions of hub-written rows with another door
    unexplained_doors: dict[str, int]  # those, by door
    unexplained_seen: tuple[Seen, ...] = ()  # those, each
    misses: tuple[Miss, ...]  # hub changes not attributed to the hub at all
    rogue_injected: int
    rogue_flagged: int
    rogue_missed: tuple[RogueChange, ...]
    scans: int = 0

    @property
    def ok(self) -> bool:
        # Every hub change names its own intent: the door alone is not enough (issue 19).
        return (self.hub_unexplained == 0 and not self.misses and not self.hub_intent_unknown
                and not self.hub_other_intent and self.rogue_flagged == self.rogue_injected)


Row = tuple[str, str, int]  # (database, table, key)


def account_doors(
    writes: Sequence[HubWrite], seen: Sequence[Seen], rogue: Sequence[RogueChange],
    database_of: Callable[[str], str], scans: int = 0,
) -> DoorAccounting:
    by_row: dict[Row, list[Seen]] = {}
    for one in sorted(seen, key=lambda s: (s.changed_at, s.stamp)):
        by_row.setdefault((database_of(one.office_id), one.table, one.key), []).append(one)
    writers: dict[Row, list[HubWrite]] = {}
    for write in writes:
        writers.setdefault((database_of(write.office_id), write.table, write.key), []).append(write)
    attributed = collapsed = 0
    misses: list[Miss] = []
    unknown: list[Miss] = []
    other: list[Miss] = []
    for row, row_writes in writers.items():
        row_seen = by_row.get(row, [])
        for write in row_writes:
            at_office = [s for s in row_seen if s.office_id == write.office_id]
            if any(s.intent_id == write.intent_id for s in at_office):
                attributed += 1
            elif _collapsed(write, row_writes, at_office):
                attributed += 1
                collapsed += 1
            else:
                miss = Miss(vendor=write.vendor, idempotency_key=write.idempotency_key,
                            table=write.table, key=write.key,
                            doors=tuple(s.door.value for s in at_office))
                first = _first_since(write, at_office)
                if first is None or first.door is not Door.HUB:
                    misses.append(miss)
                elif first.intent_id is None:
                    unknown.append(miss)
                else:
                    other.append(miss)
    others = [s for row in writers for s in by_row.get(row, []) if s.door is not Door.HUB]
    doors: dict[str, int] = {}
    for s in others:
        doors[s.door.value] = doors.get(s.door.value, 0) + 1
    flagged = {
        (database_of(s.office_id), s.table, s.key, s.stamp) for s in seen
        if s.door is Door.UNEXPLAINED
    }
    missed = tuple(c for c in rogue
                   if (database_of(c.office_id), c.table, c.key, c.stamp) not in flagged)
    return DoorAccounting(
        hub_changes=sum(len(w) for w in writers.values()), hub_attributed=attributed,
        hub_collapsed=collapsed, hub_intent_unknown=tuple(unknown), hub_other_intent=tuple(other),
        hub_unexplained=len(others), unexplained_doors=doors, unexplained_seen=tuple(others),
        misses=tuple(misses), rogue_injected=len(rogue), rogue_flagged=len(rogue) - len(missed),
        rogue_missed=missed, scans=scans,
    )


def _collapsed(write: HubWrite, row_writes: Sequence[HubWrite], at_office: Sequence[Seen]) -> bool:
    """The first attribution from the write on names a hub intent that wrote the row later."""
    first = _first_since(write, at_office)
    if first is None or first.door is not Door.HUB:
        return False
    later = {w.intent_id for w in row_writes
             if w.intent_id != write.intent_id and w.started_at > write.started_at}
    return first.intent_id in later


def _first_since(write: HubWrite, at_office: Sequence[Seen]) -> Seen | None:
    since = write.started_at - STAMP_RESOLUTION
    return next((s for s in at_office if s.changed_at >= since), None)
