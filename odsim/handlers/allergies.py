"""Allergies POST [AllOthers] and GET (opendental-api.md §4.6): ``defDescription`` names the
allergy (an allergydef is added when the office has none by that name) or ``AllergyDefNum``
does; optional Reaction, StatusIsActive (default true) and DateAdverseReaction."""

from __future__ import annotations

from odsim.fields import FieldSpec, Kind
from odsim.handlers.clinical_lists import ListItem, MissingName, PatientList, list_routes

FIELDS = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="defDescription", max_length=255),
    FieldSpec(name="AllergyDefNum", kind=Kind.INT),
    FieldSpec(name="Reaction", max_length=255),
    FieldSpec(name="StatusIsActive", kind=Kind.BOOL),
    FieldSpec(name="DateAdverseReaction", kind=Kind.DATE),
)
ALLERGIES = PatientList(
    fields=FIELDS, table="allergy", resource="allergies",
    item=ListItem(table="allergydef", key="AllergyDefNum", name_column="Description",
                  name_field="defDescription", missing=MissingName.CREATE, extra={}),
    perm="PatAllergyListEdit", what="Allergy added", defaults={"StatusIsActive": 1},
    out=("AllergyNum", "AllergyDefNum", "PatNum", "Reaction", "StatusIsActive",
         "DateTStamp", "DateAdverseReaction"),
)

routes = list_routes(ALLERGIES)
