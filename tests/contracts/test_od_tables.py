"""contracts/od_tables.json is Open Dental's schema (the simulator's copy) for the watched tables:
generated from it, checked against it, and read back as the hub reads it."""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from contracts.generated import json_text
from contracts.od_tables import TABLES_FILE, WATCHED_TABLES, ColumnKind, watched_tables
from odsim.catalog import SCHEMA_FILE, Column, load_catalog

TARGET = Path(__file__).resolve().parents[2] / "contracts" / TABLES_FILE
_TEXT_TYPES = {"varchar", "char", "text", "mediumtext", "longtext", "tinytext"}
_KINDS = {
    "bigint": ColumnKind.INT, "int": ColumnKind.INT, "smallint": ColumnKind.INT,
    "float": ColumnKind.FLOAT, "double": ColumnKind.FLOAT, "decimal": ColumnKind.FLOAT,
    "date": ColumnKind.DATE, "datetime": ColumnKind.DATETIME, "timestamp": ColumnKind.DATETIME,
    "time": ColumnKind.TIME,
}


def _kind(column: Column) -> ColumnKind:
    if column.enum is not None:
        return ColumnKind.ENUM
    if column.is_bool:
        return ColumnKind.BOOL
    if column.base_type in _TEXT_TYPES:
        return ColumnKind.TEXT
    return _KINDS[column.base_type]


def _column(column: Column) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": column.name, "kind": _kind(column).value}
    if column.enum is not None:
        names: dict[str, str] = {}
        for name, number in column.enum.items():
            names.setdefault(str(number), name)  # an alias keeps the first name of its number
        entry["enum"] = names
    return entry


def render() -> str:
    """The file's text, from the simulator's copy of Open Dental's schema."""
    catalog = load_catalog()
    tables = {
        name: {
            "primary_key": catalog[name].primary_key,
            "columns": [_column(column) for column in catalog[name].columns],
        }
        for name in WATCHED_TABLES
    }
    return json_text({"source": f"odsim/{SCHEMA_FILE}", "tables": tables})


def test_the_committed_tables_match_open_dentals_schema() -> None:
    # Given the schema file the simulator ships
    expected = render()
    # When compared with the committed file
    committed = TARGET.read_text(encoding="utf-8")
    # Then they agree (regenerate: python -m tests.contracts.test_od_tables)
    assert committed == expected


def test_every_watched_table_is_read_with_its_key_and_columns() -> None:
    # Given the tables as the hub reads them
    tables = watched_tables()
    # Then each watched table is there, with its primary key among its columns
    assert sorted(tables) == sorted(WATCHED_TABLES)
    assert tables["appointment"].primary_key == "AptNum"
    assert {"AptDateTime", "Op", "AptStatus"} <= set(tables["appointment"].columns)
    assert all(table.primary_key in table.columns for table in tables.values())


def test_values_travel_in_open_dentals_api_formats() -> None:
    # Given columns of each kind
    columns = watched_tables()["appointment"].columns
    # Then stored values come out as the API writes them
    assert columns["AptDateTime"].api_value(datetime(2030, 4, 3, 9, 15)) == "2030-04-03 09:15:00"
    assert columns["AptStatus"].api_value(1) == "Scheduled"
    assert columns["AptStatus"].api_value(99) == 99
    assert columns["IsNewPatient"].api_value(1) == "true"
    assert columns["Op"].api_value(3) == 3
    assert columns["Note"].api_value(None) is None
    patient = watched_tables()["patient"].columns
    assert patient["Birthdate"].api_value(date(1980, 1, 2)) == "1980-01-02"
    assert watched_tables()["payment"].columns["PayAmt"].api_value(Decimal("12.50")) == 12.5
    assert watched_tables()["commlog"].columns["CommDateTime"].api_value(
        datetime(2030, 1, 1)
    ) == "2030-01-01 00:00:00"
    assert watched_tables()["sheet"].columns["DateTimeSheet"].kind is ColumnKind.DATETIME


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")
