"""Rows out as Open Dental's JSON: enum names, "true"/"false", dates and date-times as text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from odsim.catalog import Column, table

Row = Mapping[str, Any]
Json = str | int | float | None
Derived = Callable[[Row], Json]
JsonObject = dict[str, Json]
OutField = str | tuple[str, Derived]  # a column of the table, or (API name, derivation)


def format_date(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def format_datetime(value: datetime) -> str:
    return f"{format_date(value)} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"


def format_us_datetime(value: datetime) -> str:
    """Open Dental's securitylog display format, e.g. "7/6/2023 11:48:55 AM"."""
    hour = value.hour % 12 or 12
    suffix = "AM" if value.hour < 12 else "PM"
    return (
        f"{value.month}/{value.day}/{value.year} "
        f"{hour}:{value.minute:02d}:{value.second:02d} {suffix}"
    )


def format_time(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def format_color(value: int) -> str:
    """An Open Dental colour (a packed ARGB int) as "R,G,B"."""
    return f"{(value >> 16) & 255},{(value >> 8) & 255},{value & 255}"


def _enum_name(column: Column, value: int) -> Json:
    assert column.enum is not None
    for name, number in column.enum.items():
        if number == value:
            return name
    return value


def encode(column: Column, value: Any) -> Json:
    if column.enum is not None:
        return _enum_name(column, int(value))
    if column.is_bool:
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, timedelta):
        return format_time(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value  # type: ignore[no-any-return]


def render(table_name: str, row: Row, fields: tuple[OutField, ...]) -> JsonObject:
    """One object with Open Dental's field names, in ``fields`` order."""
    tbl = table(table_name)
    out: JsonObject = {}
    for field in fields:
        if isinstance(field, tuple):
            name, derive = field
            out[name] = derive(row)
        else:
            out[field] = encode(tbl.column(field), row[field])
    return out
