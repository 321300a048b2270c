"""Did a clinical write whose reply was lost land? Read-only lookups in the office's database
for allergy.create, medication.create, problem.create and patfield.set.

The three creates are found as the other creates are (reconcile_queries): the patient's rows
of the table that carry every field the request sent, stamped since the attempt began, with
the API's securitylog entry for the row (LogSource API, the list's PermType, FKey = the row's
key) LEFT JOINed. These rows keep no creation time of their own, only DateTStamp, which any
later change moves on, so an older row edited since the attempt is a candidate too: a wider
look that can only turn "not found" into "ambiguous". The list item named by name (an
allergy's defDescription, a medName, a diseaseDefName) is matched through the item's table,
case-insensitively as Open Dental matches it: the API may have added the item itself.

patfield.set is an upsert, not a create: the patient keeps one row per field. It is found when
the patient's row for the field holds exactly the value sent and the API logged a
PatientFieldEdit on that row since the attempt began; otherwise it did not land (sending the
same value again is harmless); two rows for one field are for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_queries import (
    CLOCK_SKEW,
    Candidate,
    OdTable,
    PermType,
    _create_log_join,
    _find,
    _window_start,
)

Value = str | int | date | None


@dataclass(frozen=True, kw_only=True)
class ListRowKeys:
    """What a clinical create sent: the list item by key or by name, and the row's own fields
    (column → value; None where the request left the field to Open Dental's default)."""

    item_key: int | None
    item_name: str | None
    fields: dict[str, Value]


@dataclass(frozen=True, kw_only=True)
class _ClinicalTable:
    table: OdTable
    key: str  # AllergyNum
    perm: PermType
    item_table: str  # allergydef
    item_key: str  # AllergyDefNum
    item_name: str  # Description


ALLERGIES = _ClinicalTable(
    table=OdTable.ALLERGY, key="AllergyNum", perm=PermType.PatAllergyListEdit,
    item_table="allergydef", item_key="AllergyDefNum", item_name="Description",
)
MEDICATIONS = _ClinicalTable(
    table=OdTable.MEDICATIONPAT, key="MedicationPatNum", perm=PermType.PatMedicationListEdit,
    item_table="medication", item_key="MedicationNum", item_name="MedName",
)
PROBLEMS = _ClinicalTable(
    table=OdTable.DISEASE, key="DiseaseNum", perm=PermType.PatProblemListEdit,
    item_table="diseasedef", item_key="DiseaseDefNum", item_name="DiseaseName",
)
# Free text is compared byte for byte: the collation would ignore case and trailing spaces.
_TEXT_COLUMNS = frozenset({"Reaction", "PatNote"})


async def find_created_list_rows(
    db: ReadOnlyDatabase, spec: _ClinicalTable, *, since: datetime, pat_num: int,
    keys: ListRowKeys, clock_skew: timedelta = CLOCK_SKEW,
) -> list[Candidate]:
    """The patient's rows naming the same item with every sent field, stamped since."""
    start = _window_start(since, clock_skew)
    sql = (
        f"SELECT r.{spec.key} AS PrimaryKey, r.PatNum, r.DateTStamp AS CreatedAt,"
        f" MIN(s.SecurityLogNum) AS SecurityLogNum FROM {spec.table.value} r"
        f" JOIN {spec.item_table} i ON i.{spec.item_key} = r.{spec.item_key}"
        + _create_log_join("r", spec.key)
        + " WHERE r.PatNum = %s AND r.DateTStamp >= %s"
    )
    params: list[object] = [spec.perm.value, start, pat_num, start]
    if keys.item_key is not None:
        sql += f" AND r.{spec.item_key} = %s"
        params.append(keys.item_key)
    if keys.item_name is not None:
        sql += f" AND LOWER(i.{spec.item_name}) = LOWER(%s)"
        params.append(keys.item_name.strip())
    for column, value in keys.fields.items():
        if value is None:
            continue
        if column in _TEXT_COLUMNS:
            sql += f" AND CAST(r.{column} AS BINARY) = CAST(%s AS BINARY)"
        else:
            sql += f" AND r.{column} = %s"
        params.append(value)
    sql += f" GROUP BY r.{spec.key}, r.PatNum, r.DateTStamp ORDER BY r.{spec.key}"
    return await _find(db, spec.table, sql, params)


async def find_set_patfields(
    db: ReadOnlyDatabase, *, since: datetime, pat_num: int, field_name: str, field_value: str,
    clock_skew: timedelta = CLOCK_SKEW,
) -> list[Candidate]:
    """The patient's rows for the field holding exactly the value, each with the API's
    PatientFieldEdit on it since the attempt began (None where there is none)."""
    start = _window_start(since, clock_skew)
    sql = (
        "SELECT f.PatFieldNum AS PrimaryKey, f.PatNum, f.SecDateTEdit AS CreatedAt,"
        " MIN(s.SecurityLogNum) AS SecurityLogNum FROM patfield f"
        + _create_log_join("f", "PatFieldNum")
        + " WHERE f.PatNum = %s AND CAST(f.FieldName AS BINARY) = CAST(%s AS BINARY)"
        " AND CAST(f.FieldValue AS BINARY) = CAST(%s AS BINARY)"
        " GROUP BY f.PatFieldNum, f.PatNum, f.SecDateTEdit ORDER BY f.PatFieldNum"
    )
    params: list[object] = [
        PermType.PatientFieldEdit.value, start, pat_num, field_name, field_value
    ]
    return await _find(db, OdTable.PATFIELD, sql, params)
