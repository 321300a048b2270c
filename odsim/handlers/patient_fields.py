"""What Patients POST/PUT take and what the patient methods return (opendental-api.md §4.1)."""

from __future__ import annotations

import re

from odsim.catalog import enum_of, table
from odsim.fields import FieldSpec, Kind
from odsim.lookups import Lookups
from odsim.render import OutField

_PATIENT = "patient"
_STATUS = {k: v for k, v in enum_of(_PATIENT, "PatStatus").items() if k != "Deleted"}
DELETED_STATUS = enum_of(_PATIENT, "PatStatus")["Deleted"]
GENDER_UNKNOWN = enum_of(_PATIENT, "Gender")["Unknown"]


def _text(name: str, **kwargs: object) -> FieldSpec:
    kwargs.setdefault("max_length", table(_PATIENT).column(name).max_length)
    return FieldSpec(name=name, kind=Kind.TEXT, **kwargs)  # type: ignore[arg-type]


def _enum(name: str, names: dict[str, int] | None = None) -> FieldSpec:
    return FieldSpec(name=name, kind=Kind.ENUM, enum=names or dict(enum_of(_PATIENT, name)))


def _of(kind: Kind, *names: str) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(name=n, kind=kind) for n in names)


PATIENT_FIELDS: tuple[FieldSpec, ...] = (
    *(_text(n) for n in ("LName", "FName", "MiddleI", "Preferred", "Address", "Address2", "City")),
    _enum("PatStatus", _STATUS), _enum("Gender"), _enum("Position"),
    _text("SSN", pattern=re.compile(r"^\d{9}$"), hint="Must be 9 digits."),
    _text("State", pattern=re.compile(r"^[A-Z]{2}$"), hint="Must be two capital letters."),
    _text(
        "Zip", pattern=re.compile(r"^(\d{5}|\d{5}-\d{4}|\d{9}|[A-Z]\d[A-Z] \d[A-Z]\d)$"),
        hint="Format must be 12345, 12345-1234, 123456789 or A0A 0A0.",
    ),
    *(_text(n) for n in ("HmPhone", "WkPhone", "WirelessPhone", "MedicaidID", "Ward")),
    _text("Email", pattern=re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), hint="Must be an email."),
    _text("ChartNumber", max_length=15), _text("Language"),
    _text("FamFinUrgNote", max_length=65535), FieldSpec(name="BillingType", max_length=255),
    *_of(Kind.INT, "Guarantor", "PriProv", "SecProv", "FeeSched", "EmployerNum", "ClinicNum",
         "SuperFamily"),
    *_of(Kind.DATE, "Birthdate", "DateFirstVisit", "AdmitDate"),
    FieldSpec(name="Premed", kind=Kind.BOOL),
    *(_enum(n) for n in ("PreferConfirmMethod", "PreferContactMethod", "PreferRecallMethod",
                         "TxtMsgOk")),
)
NAME_FIELDS = ("LName", "FName")
PHONE_FIELDS = ("HmPhone", "WkPhone", "WirelessPhone")


def _common_out(lookups: Lookups) -> dict[str, OutField]:
    return {
        "priProvAbbr": ("priProvAbbr", lambda r: lookups.provider_abbr(r["PriProv"])),
        "secProvAbbr": ("secProvAbbr", lambda r: lookups.provider_abbr(r["SecProv"])),
        "BillingType": ("BillingType", lambda r: lookups.def_name(r["BillingType"])),
        "clinicAbbr": ("clinicAbbr", lambda r: lookups.clinic_abbr(r["ClinicNum"])),
        "siteDesc": ("siteDesc", lambda r: ""),
    }


_FULL = (
    "PatNum", "LName", "FName", "MiddleI", "Preferred", "PatStatus", "Gender", "Position",
    "Birthdate", "SSN", "Address", "Address2", "City", "State", "Zip", "HmPhone", "WkPhone",
    "WirelessPhone", "Guarantor", "Email", "EstBalance", "PriProv", "priProvAbbr", "SecProv",
    "secProvAbbr", "FeeSched", "BillingType", "ImageFolder", "FamFinUrgNote", "ChartNumber",
    "MedicaidID", "BalTotal", "EmployerNum", "DateFirstVisit", "ClinicNum", "clinicAbbr",
    "Premed", "Ward", "PreferConfirmMethod", "PreferContactMethod", "PreferRecallMethod",
    "Language", "AdmitDate", "siteDesc", "DateTStamp", "SuperFamily", "TxtMsgOk",
    "SecDateEntry",
)
_SELECT = (
    "PatNum", "LName", "FName", "MiddleI", "Preferred", "PatStatus", "Birthdate", "SSN",
    "Address", "Address2", "City", "State", "Zip", "HmPhone", "WkPhone", "WirelessPhone",
    "Email", "priProvAbbr", "secProvAbbr", "BillingType", "ChartNumber", "ClinicNum",
    "clinicAbbr", "siteDesc", "TxtMsgOk",
)


def _out(names: tuple[str, ...], lookups: Lookups) -> tuple[OutField, ...]:
    derived = _common_out(lookups)
    return tuple(derived.get(name, name) for name in names)


def full_fields(lookups: Lookups) -> tuple[OutField, ...]:
    """GET (single), GET Simple, POST and PUT return the whole patient."""
    return _out(_FULL, lookups)


def select_fields(lookups: Lookups) -> tuple[OutField, ...]:
    """GET (multiple) returns what the Patient Select window shows."""
    return _out(_SELECT, lookups)
