"""Reconciling a sheet.fill in doubt: only the one call after the last recovery point may have
landed unrecorded, and read-only SQL says whether it did (hub/opendental/sheet_queries.py).

- No sheet recorded: was a sheet of this patient and definition made since the attempt began,
  that no other fill recorded as its own? None: not landed, send Sheets POST again. One: landed,
  record it. More: a person decides (ambiguous, with the sheets).
- Sheet recorded, fields not listed: the GET is a read, nothing to ask; send it again.
- Fields listed: the first field the fill had not recorded as set. Its value now is the one
  wanted: landed, record it. The value it was made with: not landed, send the PUT. Anything
  else (someone changed the field meanwhile): a person decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from hub.ledger.sheet_steps import SEQ_FIRST_FIELD, SheetProgress, SheetStep
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.sheet_fields import fields_to_set
from hub.opendental.sheet_queries import field_value, find_made_sheets
from hub.reconcile.verdicts import AttemptWindow
from hub.reconcile.window import office_local_since

SheetsRecorded = Callable[[list[int]], Awaitable[frozenset[int]]]


@dataclass(frozen=True, kw_only=True)
class Resume:
    """Go on from the recovery points, after recording ``step`` (the call in doubt landed);
    ``landed`` False: the call in doubt did not land (or was a read) and is sent again."""

    step: SheetStep | None
    landed: bool


@dataclass(frozen=True, kw_only=True)
class Undecidable:
    """The database cannot say which row, or whose change: a person decides."""

    table: str
    primary_keys: tuple[int, ...]
    why: str


async def reconcile_fill(
    db: ReadOnlyDatabase, *, progress: SheetProgress, fields: Mapping[str, str], pat_num: int,
    sheet_def_num: int, window: AttemptWindow, sheets_recorded: SheetsRecorded,
) -> Resume | Undecidable:
    if progress.sheet_num is None:
        since = await office_local_since(db, window)
        made = await find_made_sheets(db, since=since, pat_num=pat_num,
                                      sheet_def_num=sheet_def_num)
        others = await sheets_recorded(made)
        candidates = tuple(num for num in made if num not in others)
        if not candidates:
            return Resume(step=None, landed=False)
        if len(candidates) == 1:
            return Resume(step=SheetStep.created(candidates[0]), landed=True)
        return Undecidable(table="sheet", primary_keys=candidates,
                           why="more than one sheet of the patient and definition was made")
    if progress.listed is None:
        return Resume(step=None, landed=False)
    pending = [(f, v) for f, v in fields_to_set(progress.listed, fields)
               if f.name not in progress.set_fields]
    if not pending:
        return Resume(step=None, landed=True)
    field, wanted = pending[0]
    now = await field_value(db, sheet_num=progress.sheet_num,
                            sheet_field_num=field.sheet_field_num)
    if now == wanted:
        seq = SEQ_FIRST_FIELD + len(progress.set_fields)
        return Resume(step=SheetStep.field_set(seq, progress.sheet_num, field), landed=True)
    if now == field.value:
        return Resume(step=None, landed=False)
    return Undecidable(table="sheetfield", primary_keys=(field.sheet_field_num,),
                       why="the field holds neither its value as made nor the value sent")
