"""Parsing the values callers send, in Open Dental's formats.

Enums by name, booleans as the strings "true"/"false", dates ``yyyy-MM-dd`` ("0001-01-01" or ""
for none), date-times ``yyyy-MM-dd HH:mm:ss``, times ``HH:mm:ss``, money as a number (or a
numeric string, as Open Dental's own examples send it), ids as integers (or digit strings).
Errors name the field, never the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from odsim.errors import invalid

NO_DATE = date(1, 1, 1)
NO_DATETIME = datetime(1, 1, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}$")
_DIGITS = re.compile(r"^\d{1,18}$")
_MONEY = re.compile(r"^-?\d{1,12}(\.\d+)?$")
DATE_HINT = "Format must be yyyy-MM-dd."
DATETIME_HINT = "Format must be yyyy-MM-dd HH:mm:ss."
TIME_HINT = "Format must be HH:mm:ss."


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    ENUM = "enum"


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """One field a method takes: its API name, format and the column it lands in."""

    name: str
    kind: Kind = Kind.TEXT
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None  # applies to non-empty text
    hint: str = ""  # said after "X is invalid." when the pattern does not match
    enum: Mapping[str, int] | None = None  # the names this method accepts -> stored numbers
    column: str | None = None

    @property
    def target(self) -> str:
        return self.column or self.name


def parse_date(name: str, value: object) -> date:
    if value == "":
        return NO_DATE
    if not isinstance(value, str) or not _DATE.match(value):
        raise invalid(name, DATE_HINT)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(name, DATE_HINT) from None


def parse_datetime(name: str, value: object) -> datetime:
    if not isinstance(value, str) or not _DATETIME.match(value):
        raise invalid(name, DATETIME_HINT)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise invalid(name, DATETIME_HINT) from None


def parse_time(name: str, value: object) -> time:
    if not isinstance(value, str) or not _TIME.match(value):
        raise invalid(name, TIME_HINT)
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise invalid(name, TIME_HINT) from None


def parse_int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise invalid(name)
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and _DIGITS.match(value):
        return int(value)
    raise invalid(name)


def parse_money(name: str, value: object) -> float:
    if isinstance(value, bool):
        raise invalid(name)
    if isinstance(value, int | float) and math.isfinite(value):
        return round(float(value), 2)
    if isinstance(value, str) and _MONEY.match(value):
        return round(float(value), 2)
    raise invalid(name)


def parse_bool(name: str, value: object) -> int:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return int(value.lower() == "true")
    raise invalid(name, 'Must be "true" or "false".')


def parse_enum(name: str, value: object, names: Mapping[str, int]) -> int:
    if isinstance(value, str) and value in names:
        return names[value]
    raise invalid(name, f"Must be one of: {', '.join(names)}.")


def parse_text(spec: FieldSpec, value: object) -> str:
    if not isinstance(value, str):
        raise invalid(spec.name)
    if spec.max_length is not None and len(value) > spec.max_length:
        raise invalid(spec.name, f"Maximum of {spec.max_length} characters.")
    if value and spec.pattern is not None and not spec.pattern.match(value):
        raise invalid(spec.name, spec.hint)
    return value


def parse_value(spec: FieldSpec, value: object) -> object:
    """The stored form of one sent value, or ApiError 400 naming the field."""
    match spec.kind:
        case Kind.TEXT:
            return parse_text(spec, value)
        case Kind.INT:
            return parse_int(spec.name, value)
        case Kind.MONEY:
            return parse_money(spec.name, value)
        case Kind.BOOL:
            return parse_bool(spec.name, value)
        case Kind.DATE:
            return parse_date(spec.name, value)
        case Kind.DATETIME:
            return parse_datetime(spec.name, value)
        case Kind.TIME:
            return parse_time(spec.name, value)
        case Kind.ENUM:
            return parse_enum(spec.name, value, spec.enum or {})


def parse_fields(body: Mapping[str, object], specs: tuple[FieldSpec, ...]) -> dict[str, object]:
    """The sent fields among ``specs``, by target column; fields not sent are left out and
    fields the method does not take are ignored, as Open Dental does."""
    return {spec.target: parse_value(spec, body[spec.name]) for spec in specs if spec.name in body}


def office_now() -> datetime:
    """The office's local time (the server's, no zone), to the second, as Open Dental stores it."""
    return datetime.now().replace(microsecond=0)


def int_of(values: Mapping[str, object], key: str) -> int:
    """A parsed integer field (parse_fields already checked its type)."""
    value = values[key]
    if not isinstance(value, int):
        raise TypeError(f"{key} is not an integer")
    return value
