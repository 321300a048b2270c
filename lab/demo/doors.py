"""The four doors into the office's rows (issue 19), shown by the demo. One scan of the watch
(hub/watch) after the vendors' intents attributes the hub's changes; then a front-desk user
reschedules an appointment the hub booked, another API developer edits a patient, and a program
writes a patient's hashed column straight into the database, through the simulator's ``POST
/admin/doors/{door}`` (odsim/doors.py), and one more scan attributes those three. Two scans, not
one: the watch tells a stale SecurityHash (and which columns changed) only of a row it saw
before, and the doors change rows the run created. The checks hold each scan's answers against
what each door did: the ledger's applied intents, the front desk's UserNum, the other
developer's DevName, the stale hash. Ids and column names only: never a value.
"""

from __future__ import annotations

import ssl
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from contracts import ChangeDoor, ChangeEvent
from hub.cli.sim_cmd import door_request
from hub.errors import HubError
from hub.ledger import LedgerTrace
from hub.registry import Office
from hub.watch import Attribution
from lab.demo import labels
from lab.demo.accounting import StepResult
from lab.demo.config import DemoError
from lab.demo.people import Run
from lab.demo.script import Found

DOOR_TIMEOUT_S = 30.0
# What the other developer sets: a column outside SecurityHash, so the hash stays right.
OTHER_API_COLUMN = "Preferred"
# What the direct writer sets: a hashed column (odsim/security_hash.py), leaving the hash stale.
DIRECT_COLUMN, DIRECT_VALUE = "PatStatus", "Inactive"
MIN_PATIENTS = 2  # the other developer and the direct writer change two different patients

RowKey = tuple[str, int]  # (table, primary key)


@dataclass(frozen=True, kw_only=True)
class Opened:
    """The rows the other three doors changed, and who the simulator says changed them."""

    front_desk: RowKey  # an appointment the hub booked, moved a day later
    user_num: int  # the front desk's UserNum
    other_api: RowKey  # a patient the hub created, edited by another developer
    dev_name: str  # that developer's DevName
    direct: RowKey  # a patient the hub created, a hashed column written directly


@dataclass(frozen=True, kw_only=True)
class HubRow:
    """The applied intent whose write is the row's last, as the ledger holds it."""

    table: str
    key: int
    vendor: str
    intent_id: int
    contract: str


@dataclass(frozen=True, kw_only=True)
class DoorsReport:
    """The two scans' attributions held against what each door did, and what the vendors were
    told."""

    hub_scan: tuple[Attribution, ...]  # every change the scan after the intents attributed
    door_scan: tuple[Attribution, ...]  # every change the scan after the other doors attributed
    opened: Opened
    hub_rows: tuple[HubRow, ...]  # the run's rows the hub wrote last
    reader: str  # the vendor reading appointments (change.v1)
    told: Mapping[str, tuple[ChangeEvent, ...]]  # per vendor: the change events it got

    @property
    def changes(self) -> tuple[Attribution, ...]:
        return self.hub_scan + self.door_scan

    def _hub(self, row: RowKey) -> Attribution | None:
        return next((c for c in self.hub_scan if (c.table.value, c.key) == row), None)

    def _found(self, row: RowKey) -> Attribution | None:
        return next((c for c in self.door_scan if (c.table.value, c.key) == row), None)

    @property
    def counts(self) -> Counter[str]:
        return Counter(change.door.value for change in self.changes)

    def hub_mismatches(self) -> list[HubRow]:
        """The run's hub rows the scan did not attribute to their vendor's intent."""
        wrong = []
        for row in self.hub_rows:
            change = self._hub((row.table, row.key))
            if change is None or (change.door, change.vendor, change.intent_id) != (
                ChangeDoor.HUB, row.vendor, row.intent_id
            ):
                wrong.append(row)
        return wrong

    @property
    def checks(self) -> dict[str, bool]:
        front = self._found(self.opened.front_desk)
        other = self._found(self.opened.other_api)
        direct = self._found(self.opened.direct)
        return {
            "hub_changes_attributed_to_their_intents": bool(self.hub_rows)
            and not self.hub_mismatches(),
            "front_desk_change_is_open_dental_user": front is not None
            and front.door is ChangeDoor.OPEN_DENTAL_USER
            and front.user_num == self.opened.user_num,
            "other_api_change_names_its_developer": other is not None
            and other.door is ChangeDoor.OTHER_API and other.dev_name == self.opened.dev_name,
            "direct_write_is_unexplained_with_stale_hash": direct is not None
            and direct.door is ChangeDoor.UNEXPLAINED and direct.stale_hash,
            "reader_told_of_the_reschedule": any(
                event.door is ChangeDoor.OPEN_DENTAL_USER and "AptDateTime" in event.columns
                and event.values.get("AptDateTime") is not None
                for event in self.told.get(self.reader, ())
                if (event.table.value, event.primary_key) == self.opened.front_desk
            ),
            "others_told_nothing": not any(
                events for vendor, events in self.told.items() if vendor != self.reader
            ),
        }

    def examples(self) -> list[tuple[str, Attribution | None, str]]:
        """Per door: one change of the run through it, and who the watch says made it."""
        hub = next(iter(self.hub_rows), None)
        names = {row.intent_id: row for row in self.hub_rows}
        hub_change = None if hub is None else self._hub((hub.table, hub.key))
        hub_who = "-"
        if hub_change is not None and hub_change.intent_id in names:
            row = names[hub_change.intent_id]
            hub_who = f"{hub_change.vendor}, intent {row.intent_id} ({row.contract})"
        front = self._found(self.opened.front_desk)
        other = self._found(self.opened.other_api)
        direct = self._found(self.opened.direct)
        return [
            (ChangeDoor.HUB.value, hub_change, hub_who),
            (ChangeDoor.OPEN_DENTAL_USER.value, front,
             "-" if front is None else f"UserNum {front.user_num}"),
            (ChangeDoor.OTHER_API.value, other,
             "-" if other is None else f"DevName {other.dev_name}"),
            (ChangeDoor.UNEXPLAINED.value, direct,
             "-" if direct is None else ("stale SecurityHash" if direct.stale_hash
                                         else "no securitylog")),
        ]


def sim_client(tls: ssl.SSLContext | None) -> httpx.AsyncClient:
    """A client of the simulator's admin routes, trusting ``tls``'s CA when it serves https."""
    return httpx.AsyncClient(timeout=DOOR_TIMEOUT_S, verify=tls if tls is not None else True)


async def _door(
    client: httpx.AsyncClient, office: Office, door: str, table: str, key: int,
    values: Mapping[str, str],
) -> dict[str, object]:
    try:
        return await door_request(client, office, door, table, key, values)
    except HubError as exc:
        raise DemoError(f"the simulator's {door} door: {exc}") from exc


async def open_doors(
    client: httpx.AsyncClient, office: Office, run: Run, found: Mapping[int, Found]
) -> Opened:
    """The front desk moves the first booked appointment a day later; another developer edits
    the first patient, a direct writer the last one."""
    booked = sorted(index for index, f in found.items() if f.apt_num is not None)
    if len(found) < MIN_PATIENTS or not booked:
        raise DemoError(f"the doors need {MIN_PATIENTS} patients and a booking; "
                        f"the run found {len(found)} patients, {len(booked)} bookings")
    apt_num = found[booked[0]].apt_num
    assert apt_num is not None
    first, last = found[min(found)].pat_num, found[max(found)].pat_num
    moved = await _door(client, office, "front-desk", "appointment", apt_num, {})
    edited = await _door(client, office, "other-api", "patient", first,
                         {OTHER_API_COLUMN: f"Demo {run.id}"})
    await _door(client, office, "direct-db", "patient", last, {DIRECT_COLUMN: DIRECT_VALUE})
    return Opened(
        front_desk=("appointment", apt_num), user_num=int(str(moved["user_num"])),
        other_api=("patient", first), dev_name=str(edited["developer"]),
        direct=("patient", last),
    )


async def hub_rows(
    ledger: LedgerTrace, results: Sequence[StepResult], scanned: frozenset[str]
) -> list[HubRow]:
    """Per row an applied intent of the run wrote (by the ledger), the last such intent; rows of
    tables the watch does not scan (no index on their change stamp) left out."""
    last: dict[RowKey, HubRow] = {}
    for result in results:
        event = result.event
        if result.label != labels.APPLIED or event is None or event.duplicate:
            continue
        try:
            story = await ledger.story(event.vendor, event.idempotency_key)
        except HubError as exc:
            raise DemoError(f"the ledger could not be read: {exc}") from exc
        intent = None if story is None else story.intent
        if intent is None or intent.od_table is None or intent.od_primary_key is None:
            continue
        row = (intent.od_table, intent.od_primary_key)
        if row[0] not in scanned or (row in last and last[row].intent_id > intent.id):
            continue
        last[row] = HubRow(table=row[0], key=row[1], vendor=intent.vendor, intent_id=intent.id,
                           contract=intent.contract)
    return sorted(last.values(), key=lambda r: r.intent_id)
