"""Open Dental's own table structure (schema-25.4.json, shipped beside this module).

Column names, order, MySQL types and enumeration values come from Open Dental's published schema
documentation, so read-only SQL written against the simulator also runs against a real office.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

SCHEMA_FILE = "schema-25.4.json"
_LENGTH = re.compile(r"^(?:var)?char\((\d+)\)$")


@dataclass(frozen=True, kw_only=True)
class Column:
    name: str
    sql_type: str  # as Open Dental documents it, e.g. "varchar(100)", "tinyint", "bigint(20)"
    enum_name: str | None = None
    enum: Mapping[str, int] | None = None  # API name -> stored number

    @property
    def base_type(self) -> str:
        return self.sql_type.split("(", 1)[0].lower()

    @property
    def max_length(self) -> int | None:
        match = _LENGTH.match(self.sql_type.lower())
        return int(match.group(1)) if match else None

    @property
    def is_bool(self) -> bool:
        # Open Dental stores its booleans as tinyint columns without an enumeration.
        return self.base_type == "tinyint" and self.enum is None


@dataclass(frozen=True, kw_only=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def primary_key(self) -> str:
        return self.columns[0].name

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name}.{name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _column(raw: Mapping[str, object]) -> Column:
    enum = raw.get("enum")
    if isinstance(enum, dict):
        return Column(
            name=str(raw["name"]),
            sql_type=str(raw["type"]),
            enum_name=str(enum["name"]),
            enum=MappingProxyType({str(k): int(v) for k, v in enum["values"].items()}),
        )
    return Column(name=str(raw["name"]), sql_type=str(raw["type"]))


@cache
def load_catalog() -> Mapping[str, Table]:
    """Every table of the schema file, by name. Read once; call it off the event loop first."""
    text = Path(__file__).with_name(SCHEMA_FILE).read_text(encoding="utf-8")
    tables = json.loads(text)["tables"]
    return MappingProxyType(
        {
            name: Table(name=name, columns=tuple(_column(raw) for raw in columns))
            for name, columns in tables.items()
        }
    )


def table(name: str) -> Table:
    return load_catalog()[name]


def enum_of(table_name: str, column_name: str) -> Mapping[str, int]:
    """The enumeration of a column: API name -> stored number."""
    enum = table(table_name).column(column_name).enum
    if enum is None:
        raise KeyError(f"{table_name}.{column_name} has no enumeration")
    return enum
