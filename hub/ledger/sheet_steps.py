"""sheet.fill's recovery points in the ledger: what each call of a fill did, one row a call.

A fill is one Sheets POST, one SheetFields GET and one PUT per field (opendental-api.md §4.7).
The writer records each call's effect here, in its own commit, before it makes the next call;
whatever the writer's fate, the rows say where to resume, and the one call that may have
landed without its row is the only one reconciliation has to ask Open Dental about.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the port imports this module's types, and the session imports the port
    from hub.ledger.mysql_session import MySqlSession, Record


class StepKind(StrEnum):
    CREATED = "created"  # Sheets POST made the sheet
    LISTED = "listed"  # SheetFields GET listed its fields
    FIELD_SET = "field_set"  # one SheetFields PUT set a field


SEQ_CREATED = 0
SEQ_LISTED = 1
SEQ_FIRST_FIELD = 2


@dataclass(frozen=True, kw_only=True)
class ListedField:
    """One field of the new sheet, as SheetFields GET listed it."""

    name: str
    sheet_field_num: int
    field_type: str
    value: str  # as the sheet was made, before the fill set it


@dataclass(frozen=True, kw_only=True)
class SheetStep:
    kind: StepKind
    seq: int
    sheet_num: int | None = None
    field_name: str | None = None
    sheet_field_num: int | None = None
    listed: tuple[ListedField, ...] = ()

    @classmethod
    def created(cls, sheet_num: int) -> SheetStep:
        return cls(kind=StepKind.CREATED, seq=SEQ_CREATED, sheet_num=sheet_num)

    @classmethod
    def fields_listed(cls, sheet_num: int, listed: tuple[ListedField, ...]) -> SheetStep:
        return cls(kind=StepKind.LISTED, seq=SEQ_LISTED, sheet_num=sheet_num, listed=listed)

    @classmethod
    def field_set(cls, seq: int, sheet_num: int, listed: ListedField) -> SheetStep:
        return cls(kind=StepKind.FIELD_SET, seq=seq, sheet_num=sheet_num,
                   field_name=listed.name, sheet_field_num=listed.sheet_field_num)


@dataclass(frozen=True, kw_only=True)
class SheetProgress:
    """What the recovery points of one fill say: the sheet, its fields, the fields set."""

    sheet_num: int | None = None
    listed: tuple[ListedField, ...] | None = None
    set_fields: frozenset[str] = field(default_factory=frozenset)
    # How long ago the newest point was recorded, by the ledger's clock, when read: the call
    # after it left no earlier, so it can still be on its way only that recently.
    last_point_age_s: float | None = None

    @property
    def next_seq(self) -> int:
        if self.sheet_num is None:
            return SEQ_CREATED
        if self.listed is None:
            return SEQ_LISTED
        return SEQ_FIRST_FIELD + len(self.set_fields)


_INSERT = """
INSERT INTO sheet_fill_steps (intent_id, seq, kind, sheet_num, field_name, sheet_field_num,
    detail, recorded_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6))
"""
# A point is progress: the attempts that failed before it no longer count against the intent,
# nor does its retry clock keep running. A fill of many calls under a steady rate of faults would
# otherwise use up a budget sized for one call; its retries count failures without progress.
# Only the attempt under way may record: a run another writer has taken the intent from (the
# attempt released or a later one begun) stops at its next point instead of going on with the
# fill beside the new attempt. updated_at always changes, so a matched row counts as affected.
_FORGIVE = """
UPDATE intents SET free_attempts = GREATEST(free_attempts, attempts - 1), retrying_since = NULL,
    updated_at = UTC_TIMESTAMP(6)
WHERE id = %s AND attempts = %s AND status = 'attempting'
"""
_SELECT = """
SELECT seq, kind, sheet_num, field_name, sheet_field_num, detail,
    TIMESTAMPDIFF(MICROSECOND, recorded_at, UTC_TIMESTAMP(6)) AS age_us
FROM sheet_fill_steps WHERE intent_id = %s ORDER BY seq
"""


def _detail(step: SheetStep) -> str | None:
    if step.kind is not StepKind.LISTED:
        return None
    return json.dumps([
        {"name": f.name, "num": f.sheet_field_num, "type": f.field_type, "value": f.value}
        for f in step.listed
    ])


def _listed(detail: str) -> tuple[ListedField, ...]:
    return tuple(
        ListedField(name=f["name"], sheet_field_num=f["num"], field_type=f["type"],
                    value=f["value"])
        for f in json.loads(detail)
    )


class NotThisAttempt(Exception):
    """The point's attempt is no longer the intent's attempt under way: nothing was recorded."""


async def record_step(session: MySqlSession, intent_id: int, step: SheetStep, *, attempt: int
                      ) -> None:
    """One recovery point of ``attempt``, committed when this returns, with the progress it
    means for the intent's retry budget; ``NotThisAttempt`` if that attempt is over."""
    args = (intent_id, step.seq, step.kind.value, step.sheet_num, step.field_name,
            step.sheet_field_num, _detail(step))
    async with session.transaction("recording a sheet.fill step") as tx:
        if not await tx.execute("sheet_fill_steps.forgive", _FORGIVE, (intent_id, attempt)):
            raise NotThisAttempt(f"attempt {attempt} of intent {intent_id} is no longer under way")
        await tx.execute("sheet_fill_steps.insert", _INSERT, args)


def progress_of(records: list[Record]) -> SheetProgress:
    sheet_num: int | None = None
    listed: tuple[ListedField, ...] | None = None
    set_fields: set[str] = set()
    ages = [int(record["age_us"]) / 1e6 for record in records if record.get("age_us") is not None]
    for record in records:
        kind = StepKind(record["kind"])
        if kind is StepKind.CREATED:
            sheet_num = int(record["sheet_num"])
        elif kind is StepKind.LISTED:
            listed = _listed(record["detail"])
        else:
            set_fields.add(str(record["field_name"]))
    return SheetProgress(sheet_num=sheet_num, listed=listed, set_fields=frozenset(set_fields),
                         last_point_age_s=min(ages) if ages else None)


async def read_progress(session: MySqlSession, intent_id: int) -> SheetProgress:
    async with session.autocommit("reading a sheet.fill's steps") as st:
        records = await st.fetch_all("sheet_fill_steps.select", _SELECT, (intent_id,))
    return progress_of(records)


async def read_sheets_recorded(
    session: MySqlSession, office_id: str, sheet_nums: list[int], *, besides: int
) -> frozenset[int]:
    """Which of these sheets another fill (not intent ``besides``) recorded as its own."""
    if not sheet_nums:
        return frozenset()
    marks = ", ".join(["%s"] * len(sheet_nums))
    sql = (
        "SELECT DISTINCT s.sheet_num FROM sheet_fill_steps s JOIN intents i ON i.id = s.intent_id"
        f" WHERE i.office_id = %s AND s.kind = 'created' AND s.sheet_num IN ({marks})"
        " AND s.intent_id <> %s"
    )
    async with session.autocommit("reading the sheets fills made") as st:
        records = await st.fetch_all(
            "sheet_fill_steps.sheets", sql, (office_id, *sheet_nums, besides)
        )
    return frozenset(int(record["sheet_num"]) for record in records)
