"""What Open Dental's tables say, pure: duplicate rows, and whether the effect an intent names is
there (a created row by its natural key, an update's new Address on the patient)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lab.chaos.od_rows import OdRow
from lab.chaos.plan import Effect

UPDATE = "patient.update"


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
    problems per (PatNum, PatNote), patient fields per (PatNum, FieldName, FieldValue)."""
    sizes: Counter[tuple[str, ...]] = Counter()
    for row in rows:
        if row.table == "patient":
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


class Effects:
    """The run's rows, indexed for ``present``."""

    def __init__(self, rows: Sequence[OdRow]) -> None:
        self._keys = {row.natural_key for row in rows if row.table != "patient"}
        self._patients = {row.person for row in rows if row.table == "patient"}
        self._addresses = {
            (*row.person, row.detail[0]) for row in rows if row.table == "patient" and row.detail
        }

    def present(self, database: str, effect: Effect) -> bool:
        person = (database, effect.person.first, effect.person.birthdate)
        if effect.table == "patient":
            return person in self._patients
        if effect.table == UPDATE:
            return (*person, effect.detail[0]) in self._addresses
        return (effect.table, *person, *effect.detail) in self._keys
