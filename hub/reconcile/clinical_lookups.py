"""Which rows of the office's database a lost clinical write may have made or set: each
contract's payload turned into the keys its lookup takes (hub/opendental/reconcile_clinical.py).

A field the vendor left out is left out of the lookup, as for the other creates: Open Dental
filled in its own default, so any value fits.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from contracts import Payload
from contracts.v1.allergy import AllergyCreate
from contracts.v1.medication import MedicationCreate
from contracts.v1.patfield import PatFieldSet
from contracts.v1.problem import ProblemCreate
from hub.opendental.readonly_sql import ReadOnlyDatabase
from hub.opendental.reconcile_clinical import (
    ALLERGIES,
    MEDICATIONS,
    PROBLEMS,
    ListRowKeys,
    find_created_list_rows,
    find_set_patfields,
)
from hub.opendental.reconcile_queries import CLOCK_SKEW, Candidate

# disease.ProbStatus's stored numbers (ProblemStatus, opendental schema 25.4).
PROB_STATUS_NUMBERS = {"Active": 0, "Resolved": 1, "Inactive": 2}


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _bool(value: str | None) -> int | None:
    return None if value is None else int(value == "true")


def _keys(payload: AllergyCreate | MedicationCreate | ProblemCreate) -> ListRowKeys:
    match payload:
        case AllergyCreate():
            return ListRowKeys(
                item_key=payload.AllergyDefNum, item_name=payload.defDescription,
                fields={"Reaction": payload.Reaction,
                        "StatusIsActive": _bool(payload.StatusIsActive),
                        "DateAdverseReaction": _date(payload.DateAdverseReaction)},
            )
        case MedicationCreate():
            return ListRowKeys(
                item_key=payload.MedicationNum, item_name=payload.medName,
                fields={"PatNote": payload.PatNote, "DateStart": _date(payload.DateStart),
                        "DateStop": _date(payload.DateStop), "ProvNum": payload.ProvNum},
            )
        case ProblemCreate():
            status = None if payload.ProbStatus is None else PROB_STATUS_NUMBERS[payload.ProbStatus]
            return ListRowKeys(
                item_key=payload.DiseaseDefNum, item_name=payload.diseaseDefName,
                fields={"ProbStatus": status, "DateStart": _date(payload.DateStart),
                        "DateStop": _date(payload.DateStop), "PatNote": payload.PatNote},
            )


async def find_clinical_candidates(
    db: ReadOnlyDatabase, payload: Payload, *, pat_num: int, since: datetime,
    clock_skew: timedelta = CLOCK_SKEW,
) -> list[Candidate] | None:
    """The rows a clinical payload may have made or set since, or None for another payload."""
    match payload:
        case PatFieldSet():
            return await find_set_patfields(
                db, since=since, pat_num=pat_num, field_name=payload.FieldName,
                field_value=payload.FieldValue, clock_skew=clock_skew,
            )
        case AllergyCreate():
            spec = ALLERGIES
        case MedicationCreate():
            spec = MEDICATIONS
        case ProblemCreate():
            spec = PROBLEMS
        case _:
            return None
    return await find_created_list_rows(
        db, spec, since=since, pat_num=pat_num, keys=_keys(payload), clock_skew=clock_skew
    )
