"""Checks and derived values shared by the appointment writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from odsim.errors import invalid
from odsim.fields import int_of
from odsim.handlers.appointment_fields import ARRIVAL_TIMES, parse_color, trim_pattern
from odsim.lookups import APPT_CONFIRMED, RECALL_UNSCHED_STATUS, Lookups


def _check_references(values: dict[str, object], lookups: Lookups) -> None:
    if "Op" in values and int_of(values, "Op") not in lookups.operatories:
        raise invalid("Op")
    if "Confirmed" in values:
        lookups.check_def("Confirmed", int_of(values, "Confirmed"), APPT_CONFIRMED)
    if values.get("UnschedStatus"):
        lookups.check_def("UnschedStatus", int_of(values, "UnschedStatus"), RECALL_UNSCHED_STATUS)
    if "ProvNum" in values:
        lookups.check_provider("ProvNum", int_of(values, "ProvNum"), allow_none=False)
    if "ProvHyg" in values:
        lookups.check_provider("ProvHyg", int_of(values, "ProvHyg"))
    if "ClinicNum" in values:
        lookups.check_clinic("ClinicNum", int_of(values, "ClinicNum"))
    if values.get("AppointmentTypeNum"):
        raise invalid("AppointmentTypeNum")  # the simulated office defines no appointment types


def _secondary_for(pattern: str, secondary: str) -> str:
    """PatternSecondary must be as long as Pattern: cut, or pad with "/"."""
    return secondary[: len(pattern)].ljust(len(pattern), "/")


def normalize(
    values: dict[str, object], lookups: Lookups, current: Mapping[str, Any] | None = None
) -> None:
    """Check references and turn API forms into stored ones, in place."""
    _check_references(values, lookups)
    if "Pattern" in values:
        pattern = trim_pattern(str(values["Pattern"]))
        if not pattern:
            raise invalid("Pattern", "Must contain only X and / characters.")
        values["Pattern"] = pattern
        values["PatternSecondary"] = _secondary_for(
            pattern, str(current["PatternSecondary"]) if current else ""
        )
    if "ColorOverride" in values:
        values["ColorOverride"] = parse_color(values["ColorOverride"])
    apt_datetime = values.get("AptDateTime", current["AptDateTime"] if current else None)
    for field in ARRIVAL_TIMES:
        if field in values:
            at = values[field]
            assert isinstance(at, time) and isinstance(apt_datetime, datetime)
            values[field] = datetime.combine(apt_datetime.date(), at)
