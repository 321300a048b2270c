"""A sheet's fields as Open Dental lists them, and which of them a fill sets (§4.7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hub.errors import PermanentError
from hub.ledger.sheet_steps import ListedField
from hub.opendental.results import Row

# The field types SheetFields PUT sets (opendental-api.md §4.7); a CheckBox holds "X" or "".
SETTABLE_TYPES = frozenset({"OutputText", "InputField", "CheckBox"})
CHECKBOX_VALUES = frozenset({"X", ""})


def listed_fields(rows: Sequence[Row]) -> tuple[ListedField, ...]:
    """SheetFields GET's rows as the recovery point keeps them."""
    listed = []
    for row in rows:
        num, name = row.get("SheetFieldNum"), row.get("FieldName")
        if not isinstance(num, int) or not isinstance(name, str):
            raise PermanentError("SheetFields GET returned a field without its number or name")
        listed.append(ListedField(name=name, sheet_field_num=num,
                                  field_type=str(row.get("FieldType", "")),
                                  value=str(row.get("FieldValue") or "")))
    return tuple(listed)


def fields_to_set(
    listed: Sequence[ListedField], wanted: Mapping[str, str]
) -> list[tuple[ListedField, str]]:
    """Each wanted field with the sheet's field it sets, in the vendor's order; refused, naming
    the field, when the sheet has no settable field of that name, or more than one, or a
    checkbox is given a value Open Dental refuses."""
    plan = []
    for name, value in wanted.items():
        path = f"payload.fields.{name}"
        matches = [f for f in listed if f.name == name]
        settable = [f for f in matches if f.field_type in SETTABLE_TYPES]
        if not matches:
            raise PermanentError(f"{path}: the sheet has no field of that name", status=400)
        if not settable:
            raise PermanentError(
                f"{path}: the field is a {matches[0].field_type}; only InputField, OutputText "
                "and CheckBox fields can be set", status=400)
        if len(settable) > 1:
            raise PermanentError(
                f"{path}: the sheet has {len(settable)} fields of that name; the hub cannot "
                "tell which to set", status=400)
        if settable[0].field_type == "CheckBox" and value not in CHECKBOX_VALUES:
            raise PermanentError(f"{path}: a CheckBox takes \"X\" or \"\"", status=400)
        plan.append((settable[0], value))
    return plan
