"""Diseases (problems) POST [AllOthers] and GET (opendental-api.md §4.6): ``diseaseDefName``
names the problem or ``DiseaseDefNum`` does; optional ProbStatus (Active, Resolved, Inactive;
default Active), DateStart, DateStop and PatNote.

Whether a ``diseaseDefName`` the office lacks is added, as Allergies add theirs, is UNCONFIRMED:
the reference says so of allergies and medications only, so the simulator refuses it (400).
"""

from __future__ import annotations

from odsim.catalog import enum_of
from odsim.fields import FieldSpec, Kind
from odsim.handlers.clinical_lists import ListItem, MissingName, PatientList, list_routes

FIELDS = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="diseaseDefName", max_length=255),
    FieldSpec(name="DiseaseDefNum", kind=Kind.INT),
    FieldSpec(name="PatNote", max_length=65535),
    FieldSpec(name="ProbStatus", kind=Kind.ENUM, enum=enum_of("disease", "ProbStatus")),
    FieldSpec(name="DateStart", kind=Kind.DATE),
    FieldSpec(name="DateStop", kind=Kind.DATE),
)
DISEASES = PatientList(
    fields=FIELDS, table="disease", resource="diseases",
    item=ListItem(table="diseasedef", key="DiseaseDefNum", name_column="DiseaseName",
                  name_field="diseaseDefName", missing=MissingName.REFUSE, extra={}),
    perm="PatProblemListEdit", what="Problem added", defaults={},
    out=("DiseaseNum", "PatNum", "DiseaseDefNum", "PatNote", "DateTStamp", "ProbStatus",
         "DateStart", "DateStop"),
)

routes = list_routes(DISEASES)
