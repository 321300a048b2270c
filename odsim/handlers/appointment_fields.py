"""What the appointment methods take and return (opendental-api.md §4.2)."""

from __future__ import annotations

import re

from odsim.catalog import enum_of
from odsim.errors import invalid
from odsim.fields import FieldSpec, Kind
from odsim.lookups import Lookups
from odsim.render import OutField, format_color

_STATUS = enum_of("appointment", "AptStatus")
CREATE_STATUSES = {k: _STATUS[k] for k in ("Scheduled", "Complete", "UnschedList", "PtNote",
                                            "PtNoteCompleted")}
UPDATE_STATUSES = {**CREATE_STATUSES, "Broken": _STATUS["Broken"], "Planned": _STATUS["Planned"]}
SCHEDULED = _STATUS["Scheduled"]
BROKEN = _STATUS["Broken"]
UNSCHED_LIST = _STATUS["UnschedList"]
DEFAULT_PATTERN = "/XX/"
MAX_PATTERN = 108  # one character per 5 minutes, 9 hours
_PATTERN = re.compile(r"^[X/]+$")
_COLOR = re.compile(r"^(\d{1,3}),(\d{1,3}),(\d{1,3})$")

_COMMON: tuple[FieldSpec, ...] = (
    FieldSpec(name="Pattern", pattern=_PATTERN, hint="Must contain only X and / characters."),
    FieldSpec(name="Confirmed", kind=Kind.INT),
    FieldSpec(name="Note", max_length=65535),
    FieldSpec(name="ProvNum", kind=Kind.INT), FieldSpec(name="ProvHyg", kind=Kind.INT),
    FieldSpec(name="ClinicNum", kind=Kind.INT),
    FieldSpec(name="IsHygiene", kind=Kind.BOOL), FieldSpec(name="IsNewPatient", kind=Kind.BOOL),
    FieldSpec(name="Priority", kind=Kind.ENUM, enum=enum_of("appointment", "Priority")),
    FieldSpec(name="AppointmentTypeNum", kind=Kind.INT),
    FieldSpec(name="DateTimeArrived", kind=Kind.TIME),
    FieldSpec(name="DateTimeSeated", kind=Kind.TIME),
    FieldSpec(name="DateTimeDismissed", kind=Kind.TIME),
    FieldSpec(name="colorOverride", column="ColorOverride"),
    FieldSpec(name="AptDateTime", kind=Kind.DATETIME),
    FieldSpec(name="Op", kind=Kind.INT),
)
CREATE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(name="PatNum", kind=Kind.INT),
    FieldSpec(name="AptStatus", kind=Kind.ENUM, enum=CREATE_STATUSES),
    FieldSpec(name="SecUserNumEntry", kind=Kind.INT),
    *_COMMON,
)
UPDATE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(name="AptStatus", kind=Kind.ENUM, enum=UPDATE_STATUSES),
    FieldSpec(name="UnschedStatus", kind=Kind.INT),
    *_COMMON,
)
ARRIVAL_TIMES = ("DateTimeArrived", "DateTimeSeated", "DateTimeDismissed")

_OUT = (
    "AptNum", "PatNum", "AptStatus", "Pattern", "Confirmed", "confirmed", "TimeLocked", "Op",
    "Note", "ProvNum", "provAbbr", "ProvHyg", "AptDateTime", "NextAptNum", "UnschedStatus",
    "unschedStatus", "IsNewPatient", "ProcDescript", "ClinicNum", "IsHygiene", "DateTStamp",
    "DateTimeArrived", "DateTimeSeated", "DateTimeDismissed", "InsPlan1", "InsPlan2",
    "DateTimeAskedToArrive", "colorOverride", "AppointmentTypeNum", "SecUserNumEntry",
    "SecDateTEntry", "Priority", "PatternSecondary", "ItemOrderPlanned",
)


def appointment_fields(lookups: Lookups) -> tuple[OutField, ...]:
    derived: dict[str, OutField] = {
        "confirmed": ("confirmed", lambda r: lookups.def_name(r["Confirmed"])),
        "provAbbr": ("provAbbr", lambda r: lookups.provider_abbr(r["ProvNum"])),
        "unschedStatus": ("unschedStatus", lambda r: lookups.def_name(r["UnschedStatus"])),
        "colorOverride": ("colorOverride", lambda r: format_color(r["ColorOverride"])),
    }
    return tuple(derived.get(name, name) for name in _OUT)


def parse_color(value: object) -> int:
    """ "R,G,B" (each 0-255) as Open Dental's packed colour int."""
    match = _COLOR.match(str(value))
    channels = [int(c) for c in match.groups()] if match else []
    if not channels or max(channels) > 255:
        raise invalid("colorOverride", 'Format must be "R,G,B".')
    red, green, blue = channels
    return (red << 16) | (green << 8) | blue


def trim_pattern(pattern: str) -> str:
    """Open Dental trims patterns longer than 9 hours down to 9 hours."""
    return pattern[:MAX_PATTERN]
