"""Patient rules Open Dental applies: the patient a request names must exist (and, for a write,
not be deleted); on writes, references that must exist, the family, and the duplicate check of
Patients POST (``Patients.GetHasDuplicateForNameBirthdayEmailAndPhone``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import aiomysql

from odsim.errors import ApiError, bad_request, invalid, not_found
from odsim.fields import NO_DATE, int_of
from odsim.handlers.common import Row, fetch_row
from odsim.handlers.patient_fields import DELETED_STATUS, PHONE_FIELDS
from odsim.lookups import BILLING_TYPES, Lookups

_NON_DIGITS = re.compile(r"\D")


async def known_patient(cur: aiomysql.DictCursor, pat_num: int, *, for_update: bool = False) -> Row:
    """The patient ``pat_num``, deleted or not: 404 if there is no such row."""
    row = await fetch_row(cur, "patient", pat_num, for_update=for_update)
    if row is None:
        raise not_found("Patient not found.")
    return row


async def live_patient(cur: aiomysql.DictCursor, pat_num: int, *, for_update: bool = False) -> Row:
    """The patient a write names: 404 if missing, 400 if deleted."""
    row = await known_patient(cur, pat_num, for_update=for_update)
    if row["PatStatus"] == DELETED_STATUS:
        raise ApiError(400, "Deleted patients may not be changed.")
    return row


def resolve_references(values: dict[str, object], lookups: Lookups) -> None:
    """Check the provider, clinic and billing type fields, in place (BillingType by name)."""
    if "BillingType" in values:
        name = str(values["BillingType"])
        def_num = lookups.def_named(BILLING_TYPES, name) if name else None
        if def_num is None:
            raise invalid("BillingType")
        values["BillingType"] = def_num
    for field in ("PriProv", "SecProv"):
        if field in values:
            lookups.check_provider(field, int_of(values, field))
    if "ClinicNum" in values:
        lookups.check_clinic("ClinicNum", int_of(values, "ClinicNum"))


async def family_head(cur: aiomysql.DictCursor, field: str, pat_num: int) -> int:
    """The guarantor of the family ``pat_num`` belongs to; 400 naming ``field`` if none."""
    row = await fetch_row(cur, "patient", pat_num)
    if row is None or row["PatStatus"] == DELETED_STATUS:
        raise invalid(field)
    return int(row["Guarantor"]) or pat_num


async def join_super_family(cur: aiomysql.DictCursor, head: int) -> None:
    """Naming a SuperFamily head makes one if the head has none yet."""
    row = await fetch_row(cur, "patient", head)
    if row is None or row["PatStatus"] == DELETED_STATUS:
        raise invalid("SuperFamily")
    if row["SuperFamily"] == 0:
        await cur.execute("UPDATE patient SET SuperFamily = %s WHERE PatNum = %s", (head, head))


def _digits(value: object) -> str:
    return _NON_DIGITS.sub("", str(value or ""))


def _contacts(row: Mapping[str, Any]) -> tuple[str, set[str]]:
    email = str(row.get("Email") or "").strip().lower()
    phones = {_digits(row.get(f)) for f in PHONE_FIELDS} - {""}
    return email, phones


async def has_duplicate(cur: aiomysql.DictCursor, new: Mapping[str, object]) -> bool:
    """Same LName, FName and Birthdate as an existing patient, and the same email or phone
    (digits only) as someone in that patient's family."""
    birthdate = new.get("Birthdate", NO_DATE)
    email, phones = _contacts(new)
    if birthdate == NO_DATE or (not email and not phones):
        return False
    await cur.execute(
        "SELECT DISTINCT Guarantor FROM patient WHERE LName = %s AND FName = %s"
        " AND Birthdate = %s AND PatStatus != %s",
        (new["LName"], new["FName"], birthdate, DELETED_STATUS),
    )
    families = [row["Guarantor"] for row in await cur.fetchall()]
    if not families:
        return False
    marks = ", ".join(["%s"] * len(families))
    await cur.execute(
        f"SELECT Email, HmPhone, WkPhone, WirelessPhone FROM patient WHERE Guarantor IN ({marks})",
        tuple(families),
    )
    for member in await cur.fetchall():
        member_email, member_phones = _contacts(member)
        if (email and email == member_email) or phones & member_phones:
            return True
    return False


def check_names(values: Mapping[str, object], *, creating: bool) -> None:
    for field in ("LName", "FName"):
        if field not in values:
            if creating:
                raise bad_request(f"{field} is required.")
            continue
        if not str(values[field]).strip():
            raise bad_request(f"{field} is required." if creating else f"{field} cannot be blank.")
