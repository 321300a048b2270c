"""The run's proofs, read from where the effects live rather than from the hub's own counters.

- Open Dental's tables, through ``ReadOnlyDatabase`` (the hub's only door to them): for every
  natural key a create named, the rows it holds must be exactly the rows the applied outcomes
  named (one per applied create, none for a refused one); and per table, the run's rows must
  number its applied creates.
- The ledger's API calls: an intent sent several times with one key made exactly one call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from hub.ledger import LedgerTrace
from hub.opendental.readonly_sql import ReadOnlyDatabase
from lab.demo import labels
from lab.demo.accounting import StepResult
from lab.demo.script import CreatedRow

_PATIENT = "p.LName = %s AND p.FName = %s AND p.Birthdate = %s"
# Each query's rows for one natural key: the patient's, then the row's own columns.
ROW_QUERIES = {
    "patient": f"SELECT p.PatNum AS num FROM patient p WHERE {_PATIENT}",
    "appointment": "SELECT a.AptNum AS num FROM appointment a JOIN patient p"
    f" ON p.PatNum = a.PatNum WHERE {_PATIENT} AND a.AptDateTime = %s AND a.Op = %s",
    "commlog": "SELECT c.CommlogNum AS num FROM commlog c JOIN patient p"
    f" ON p.PatNum = c.PatNum WHERE {_PATIENT} AND c.Note = %s",
    "payment": "SELECT y.PayNum AS num FROM payment y JOIN patient p"
    f" ON p.PatNum = y.PatNum WHERE {_PATIENT} AND y.PayAmt = %s",
    "document": "SELECT d.DocNum AS num FROM document d JOIN patient p"
    f" ON p.PatNum = d.PatNum WHERE {_PATIENT} AND d.Description = %s",
    "allergy": "SELECT r.AllergyNum AS num FROM allergy r JOIN patient p"
    f" ON p.PatNum = r.PatNum WHERE {_PATIENT} AND r.Reaction = %s",
    "medicationpat": "SELECT m.MedicationPatNum AS num FROM medicationpat m JOIN patient p"
    f" ON p.PatNum = m.PatNum WHERE {_PATIENT} AND m.PatNote = %s",
    "disease": "SELECT s.DiseaseNum AS num FROM disease s JOIN patient p"
    f" ON p.PatNum = s.PatNum WHERE {_PATIENT} AND s.PatNote = %s",
    "patfield": "SELECT f.PatFieldNum AS num FROM patfield f JOIN patient p"
    f" ON p.PatNum = f.PatNum WHERE {_PATIENT} AND f.FieldName = %s AND f.FieldValue = %s",
    "sheet": "SELECT h.SheetNum AS num FROM sheet h JOIN patient p"
    f" ON p.PatNum = h.PatNum WHERE {_PATIENT} AND h.SheetDefNum = %s",
}
# Every row of a table that belongs to the run's patients (they share the run's surname).
TOTAL_QUERIES = {
    "patient": "SELECT COUNT(*) AS n FROM patient p WHERE p.LName = %s",
    "appointment": "SELECT COUNT(*) AS n FROM appointment a JOIN patient p"
    " ON p.PatNum = a.PatNum WHERE p.LName = %s",
    "commlog": "SELECT COUNT(*) AS n FROM commlog c JOIN patient p"
    " ON p.PatNum = c.PatNum WHERE p.LName = %s",
    "payment": "SELECT COUNT(*) AS n FROM payment y JOIN patient p"
    " ON p.PatNum = y.PatNum WHERE p.LName = %s",
    "document": "SELECT COUNT(*) AS n FROM document d JOIN patient p"
    " ON p.PatNum = d.PatNum WHERE p.LName = %s",
    "allergy": "SELECT COUNT(*) AS n FROM allergy r JOIN patient p"
    " ON p.PatNum = r.PatNum WHERE p.LName = %s",
    "medicationpat": "SELECT COUNT(*) AS n FROM medicationpat m JOIN patient p"
    " ON p.PatNum = m.PatNum WHERE p.LName = %s",
    "disease": "SELECT COUNT(*) AS n FROM disease s JOIN patient p"
    " ON p.PatNum = s.PatNum WHERE p.LName = %s",
    "patfield": "SELECT COUNT(*) AS n FROM patfield f JOIN patient p"
    " ON p.PatNum = f.PatNum WHERE p.LName = %s",
    "sheet": "SELECT COUNT(*) AS n FROM sheet h JOIN patient p"
    " ON p.PatNum = h.PatNum WHERE p.LName = %s",
}


@dataclass(frozen=True, kw_only=True)
class RowCheck:
    table: str
    keys: tuple[str, ...]  # idempotency keys of the steps naming this natural key
    expected: tuple[int, ...]  # the primary keys the applied outcome events named
    found: tuple[int, ...]  # the primary keys Open Dental's table holds for it

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclass(frozen=True, kw_only=True)
class TableCount:
    table: str
    applied_creates: int
    rows: int  # the run's rows in Open Dental's table


@dataclass(frozen=True, kw_only=True)
class RepeatCalls:
    """One key published several times (exact duplicates, a reused key)."""

    vendor: str
    key: str
    published: int
    deliveries: int  # what the ledger counted; 0: the ledger has no such intent
    api_calls: int

    @property
    def ok(self) -> bool:
        return self.api_calls == 1


def _row_groups(results: Sequence[StepResult]) -> dict[CreatedRow, list[StepResult]]:
    groups: dict[CreatedRow, list[StepResult]] = defaultdict(list)
    for result in results:
        if result.sent.step.creates is not None:
            groups[result.sent.step.creates].append(result)
    return groups


async def _nums(db: ReadOnlyDatabase, row: CreatedRow) -> tuple[int, ...]:
    who = row.person
    params = (who.last, who.first, who.birthdate, *row.detail)
    found = await db.select(f"demo_{row.table}_rows", ROW_QUERIES[row.table], params)
    return tuple(sorted(int(str(line["num"])) for line in found))


async def check_rows(db: ReadOnlyDatabase, results: Sequence[StepResult]) -> list[RowCheck]:
    checks = []
    for row, named in _row_groups(results).items():
        expected = sorted(r.od_key for r in named if r.od_key is not None)
        checks.append(RowCheck(
            table=row.table, keys=tuple(dict.fromkeys(r.sent.step.key for r in named)),
            expected=tuple(expected), found=await _nums(db, row),
        ))
    return checks


async def count_tables(
    db: ReadOnlyDatabase, surname: str, results: Sequence[StepResult]
) -> list[TableCount]:
    counts = []
    for table, sql in TOTAL_QUERIES.items():
        applied = sum(
            1 for r in results
            if r.label == labels.APPLIED and r.sent.step.creates is not None
            and r.sent.step.creates.table == table
        )
        (line,) = await db.select(f"demo_{table}_total", sql, (surname,))
        counts.append(TableCount(table=table, applied_creates=applied, rows=int(str(line["n"]))))
    return counts


async def check_repeats(ledger: LedgerTrace, results: Sequence[StepResult]) -> list[RepeatCalls]:
    published: dict[tuple[str, str], int] = defaultdict(int)
    for result in results:
        if result.sent.confirmed:
            published[(result.sent.step.login, result.sent.step.key)] += 1
    checks = []
    for (vendor, key), times in published.items():
        if times < 2:
            continue
        story = await ledger.story(vendor, key)
        checks.append(RepeatCalls(
            vendor=vendor, key=key, published=times,
            deliveries=0 if story is None else story.intent.deliveries,
            api_calls=0 if story is None else len(story.api_calls),
        ))
    return checks
