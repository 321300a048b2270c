"""What Open Dental's tables say, pure: duplicate rows, and whether the effect an intent names is
there (a created row by its natural key, an update's new Address on the patient)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lab.chaos.od_rows import FIELD_SETS, SHEET_FIELDS, STATE, OdRow
from lab.chaos.plan import Effect, Planned

UPDATE = "patient.update"
RESCHEDULE = "appointment.update"
NOTE = "appointment.note"
SHEET_FILL = "sheet.fill"
REFUND = "payment.refund"
NOT_NATURAL_KEYS = (SHEET_FIELDS, FIELD_SETS)  # read for sheet.fill's own checks
LINE_BREAK = "\r\n"


@dataclass(frozen=True, kw_only=True)
class Duplicates:
    groups: Counter[str]  # per table: natural-key groups holding more than one row
    extra_rows: Counter[str]  # per table: rows beyond the first of each such group

    @property
    def total(self) -> int:
        return sum(self.groups.values())


def duplicates(rows: Sequence[OdRow]) -> Duplicates:
    """Patients per (LName, FName, Birthdate) in their database; appointments per (PatNum,
    AptDateTime, Op), commlogs per (PatNum, Note), payments per (PatNum, PayAmt, PayDate),
    documents per (PatNum, Description), allergies per (PatNum, Reaction), medications and
    problems per (PatNum, PatNote), patient fields per (PatNum, FieldName, FieldValue); and an
    appointment's Note holding a line twice (a note appended twice: the run's notes are each
    appended once, and differ); sheets per (PatNum, SheetDefNum): the run fills one form once per
    patient."""
    sizes: Counter[tuple[str, ...]] = Counter()
    for row in rows:
        if row.table in NOT_NATURAL_KEYS:
            continue
        if row.table == STATE:
            for line, times in Counter(row.detail[1].split(LINE_BREAK)).items():
                sizes[(NOTE, row.database, str(row.pat_num), line)] += times
        elif row.table == "patient":
            sizes[("patient", *row.person)] += 1
        else:
            sizes[(row.table, row.database, str(row.pat_num), *row.detail)] += 1
    groups: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    for key, size in sizes.items():
        if size > 1:
            groups[key[0]] += 1
            extra[key[0]] += size - 1
    return Duplicates(groups=groups, extra_rows=extra)


@dataclass(frozen=True, kw_only=True)
class SheetFills:
    """The run's sheet.fill intents against Open Dental's sheets: fields of an applied fill not
    holding their value (each once), and fields Open Dental logged as set more than once."""

    fields_missing: int = 0
    fields_set_twice: int = 0


NO_SHEET_FILLS = SheetFills()  # a run (or a test) that fills no sheet

def sheet_fills(
    rows: Sequence[OdRow], applied: Sequence[tuple[str, Planned]], effects: Effects
) -> SheetFills:
    """``applied``: each applied sheet.fill with its office database."""
    sets = Counter((row.database, row.detail[0]) for row in rows if row.table == FIELD_SETS)
    missing = sum(
        effects.sheet_fields_missing(database, p.effect) for database, p in applied
        if p.effect is not None and p.effect.table == SHEET_FILL
    )
    return SheetFills(fields_missing=missing,
                      fields_set_twice=sum(1 for times in sets.values() if times > 1))


class Effects:
    """The run's rows, indexed for ``present``."""

    def __init__(self, rows: Sequence[OdRow]) -> None:
        self._keys = {row.natural_key for row in rows if row.table != "patient"}
        self._patients = {row.person for row in rows if row.table == "patient"}
        self._addresses = {
            (*row.person, row.detail[0]) for row in rows if row.table == "patient" and row.detail
        }
        self._patterns = {(*row.person, row.detail[0]) for row in rows if row.table == STATE}
        # Each line of each appointment's Note, with how many times it is there.
        self._sheets = Counter((*row.person, row.detail[0]) for row in rows
                               if row.table == "sheet")
        self._sheet_fields = {(*row.person, row.detail[0], f"{row.detail[1]}={row.detail[2]}")
                              for row in rows if row.table == SHEET_FIELDS}
        self._payments = Counter((*row.person, row.detail[0]) for row in rows
                                 if row.table == "payment")
        self._note_lines = Counter(
            (*row.person, line) for row in rows if row.table == STATE
            for line in row.detail[1].split(LINE_BREAK)
        )

    def present(self, database: str, effect: Effect) -> bool:
        person = (database, effect.person.first, effect.person.birthdate)
        if effect.table == "patient":
            return person in self._patients
        if effect.table == UPDATE:
            return (*person, effect.detail[0]) in self._addresses
        if effect.table == RESCHEDULE:
            return (*person, effect.detail[0]) in self._patterns
        if effect.table == NOTE:
            return self._note_lines[(*person, effect.detail[0])] == 1
        if effect.table == SHEET_FILL:
            return (self._sheets[(*person, effect.detail[0])] == 1
                    and self.sheet_fields_missing(database, effect) == 0)
        if effect.table == REFUND:  # one offsetting payment: none is lost, two a double refund
            return self._payments[(*person, effect.detail[0])] == 1
        return (effect.table, *person, *effect.detail) in self._keys

    def sheet_fields_missing(self, database: str, effect: Effect) -> int:
        """Fields of a sheet.fill's effect that no sheet of the person's holds with its value."""
        person = (database, effect.person.first, effect.person.birthdate)
        sheet_def, *fields = effect.detail
        return sum(1 for field in fields
                   if (*person, sheet_def, field) not in self._sheet_fields)
