"""MedicationPats POST [AllOthers] and GET (opendental-api.md §4.6): ``medName`` names the
medication (matched to the office's, or added as a generic) or ``MedicationNum`` does; optional
PatNote, DateStart, DateStop and ProvNum."""

from __future__ import annotations

from odsim.fields import FieldSpec, Kind
from odsim.handlers.clinical_lists import ListItem, MissingName, PatientList, list_routes

FIELDS = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="medName", max_length=255),
    FieldSpec(name="MedicationNum", kind=Kind.INT),
    FieldSpec(name="PatNote", max_length=65535),
    FieldSpec(name="DateStart", kind=Kind.DATE),
    FieldSpec(name="DateStop", kind=Kind.DATE),
    FieldSpec(name="ProvNum", kind=Kind.INT),
)
MEDICATION_PATS = PatientList(
    fields=FIELDS, table="medicationpat", resource="medicationpats",
    # A medication added by name is a generic: GenericNum 0 here, its own number in Open Dental,
    # which nothing the API or the hub reads depends on.
    item=ListItem(table="medication", key="MedicationNum", name_column="MedName",
                  name_field="medName", missing=MissingName.CREATE, extra={}),
    perm="PatMedicationListEdit", what="Medication added", defaults={},
    out=("MedicationPatNum", "PatNum", "MedicationNum", "PatNote", "DateTStamp", "DateStart",
         "DateStop", "ProvNum"),
)

routes = list_routes(MEDICATION_PATS)
