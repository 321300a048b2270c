"""The Open Dental tables the hub watches for changes, and their columns: what a registry's read
agreement may name and how a change event writes a column's value.

The data (``od_tables.json`` beside this module) is generated from Open Dental's schema that the
simulator ships (odsim/schema-25.4.json); the hub never imports the simulator, so a test compares
the two and regenerates the file (tests/contracts/test_od_tables.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType

TABLES_FILE = "od_tables.json"


class WatchedTable(StrEnum):
    """The tables `hub watch` follows: those the contracts write, and what Open Dental pushes."""

    PATIENT = "patient"
    APPOINTMENT = "appointment"
    COMMLOG = "commlog"
    PAYMENT = "payment"
    DOCUMENT = "document"
    SHEET = "sheet"
    PATFIELD = "patfield"
    ALLERGY = "allergy"
    MEDICATIONPAT = "medicationpat"
    DISEASE = "disease"


WATCHED_TABLES = tuple(table.value for table in WatchedTable)

ChangeValue = str | int | float | None


class ColumnKind(StrEnum):
    """How a stored value travels, in Open Dental's API formats (as intents carry them)."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"  # a tinyint without an enumeration: the strings "true"/"false"
    ENUM = "enum"  # a number stored, its API name sent
    TEXT = "text"
    DATE = "date"  # yyyy-MM-dd
    DATETIME = "datetime"  # yyyy-MM-dd HH:mm:ss, office local time
    TIME = "time"  # HH:mm:ss


@dataclass(frozen=True, kw_only=True)
class OdColumn:
    name: str
    kind: ColumnKind
    enum: Mapping[int, str] | None = None  # stored number -> API name

    def api_value(self, stored: object) -> ChangeValue:
        """The stored value as the Open Dental API writes it (an unknown enum number as is)."""
        if stored is None:
            return None
        if self.kind is ColumnKind.ENUM and self.enum is not None and isinstance(stored, int):
            return self.enum.get(stored, stored)
        if self.kind is ColumnKind.BOOL:
            return "true" if stored else "false"
        return _plain(stored)


@dataclass(frozen=True, kw_only=True)
class OdTable:
    name: str
    primary_key: str
    columns: Mapping[str, OdColumn]


def _plain(stored: object) -> ChangeValue:
    if isinstance(stored, datetime):
        return stored.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(stored, date):
        return stored.isoformat()
    if isinstance(stored, timedelta):  # the driver's reading of a TIME column
        seconds = int(stored.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(stored, time):
        return stored.strftime("%H:%M:%S")
    if isinstance(stored, Decimal):
        return float(stored)
    if isinstance(stored, bytes):
        return stored.decode("utf-8", errors="replace")
    if isinstance(stored, int | float | str):
        return stored
    return str(stored)


def _column(raw: Mapping[str, object]) -> OdColumn:
    enum = raw.get("enum")
    names = (
        MappingProxyType({int(number): str(name) for number, name in enum.items()})
        if isinstance(enum, dict)
        else None
    )
    return OdColumn(name=str(raw["name"]), kind=ColumnKind(str(raw["kind"])), enum=names)


@cache
def watched_tables() -> Mapping[str, OdTable]:
    """Every watched table by name, read once from ``od_tables.json`` (a blocking read: call it
    at start-up or off the event loop first)."""
    text = Path(__file__).with_name(TABLES_FILE).read_text(encoding="utf-8")
    tables = json.loads(text)["tables"]
    return MappingProxyType({
        name: OdTable(
            name=name,
            primary_key=str(table["primary_key"]),
            columns=MappingProxyType({c["name"]: _column(c) for c in table["columns"]}),
        )
        for name, table in tables.items()
    })
