"""CREATE TABLE statements for an office database, generated from Open Dental's schema.

Open Dental's names, column order and MySQL types; the first column is the AUTO_INCREMENT primary
key, every other column NOT NULL with Open Dental's "none" value as default, and the timestamp
columns (DateTStamp, SecDateTEdit) maintained by MariaDB on every insert and update.
"""

from __future__ import annotations

from odsim.catalog import Column, Table, load_catalog

OFFICE_TABLES = (
    "patient", "appointment", "histappointment", "commlog", "document", "payment", "paysplit",
    "securitylog", "securityloghash", "operatory", "provider", "definition", "apikey", "clinic",
    "patfield", "patfielddef", "allergy", "allergydef", "medicationpat", "medication", "disease",
    "diseasedef",
    "sheetdef", "sheetfielddef", "sheet", "sheetfield", "userod", "apisubscription",
    "deletedobject",
)

# The lookups Open Dental's own queries and the hub's reconciliation make.
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "patient": (("LName", "FName", "Birthdate"), ("Guarantor",), ("DateTStamp",)),
    "appointment": (("PatNum", "AptDateTime"), ("AptDateTime",), ("DateTStamp",)),
    "histappointment": (("AptNum",), ("HistDateTStamp",)),
    "commlog": (("PatNum", "CommDateTime"), ("DateTStamp",)),
    "document": (("PatNum", "DateCreated"), ("DateTStamp",)),
    # No index on SecDateTEdit: Open Dental's schema documentation shows none (the events poller
    # reads the small table whole, as Open Dental's own would).
    "patfield": (("PatNum", "FieldName"),),
    "allergy": (("PatNum",), ("DateTStamp",)),
    "medicationpat": (("PatNum",), ("DateTStamp",)),
    "disease": (("PatNum",), ("DateTStamp",)),
    "payment": (("PatNum",),),
    "paysplit": (("PayNum",), ("PatNum",)),
    "securitylog": (("LogSource", "LogDateTime"), ("FKey",), ("PatNum",)),
    "securityloghash": (("SecurityLogNum",),),
    "definition": (("Category", "ItemOrder"),),
    "apikey": (("CustApiKey",),),
    "sheetfielddef": (("SheetDefNum",),),
    "sheet": (("PatNum", "SheetDefNum", "DateTimeSheet"),),
    "sheetfield": (("SheetNum",),),
}

_TEXT_TYPES = frozenset({"varchar", "char", "text", "mediumtext", "longtext"})
_NUMBER_TYPES = frozenset({"tinyint", "smallint", "int", "bigint", "double", "float", "decimal"})
_NONE_VALUES = {"date": "'0001-01-01'", "datetime": "'0001-01-01 00:00:00'", "time": "'00:00:00'"}


def _default(column: Column) -> str:
    base = column.base_type
    if base == "timestamp":
        return "DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"
    if base in _TEXT_TYPES:
        return "DEFAULT ''"
    if base in _NUMBER_TYPES:
        return "DEFAULT 0"
    if base in _NONE_VALUES:
        return f"DEFAULT {_NONE_VALUES[base]}"
    raise ValueError(f"no default for MySQL type {column.sql_type}")


def _column_sql(column: Column, *, primary: bool) -> str:
    if primary:
        return f"`{column.name}` {column.sql_type.upper()} NOT NULL AUTO_INCREMENT PRIMARY KEY"
    return f"`{column.name}` {column.sql_type.upper()} NOT NULL {_default(column)}"


def create_table_sql(table: Table) -> str:
    lines = [_column_sql(c, primary=i == 0) for i, c in enumerate(table.columns)]
    for columns in INDEXES.get(table.name, ()):
        name = "_".join(columns)
        lines.append(f"KEY `{name}` ({', '.join(f'`{c}`' for c in columns)})")
    body = ",\n  ".join(lines)
    return (
        f"CREATE TABLE IF NOT EXISTS `{table.name}` (\n  {body}\n)"
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )


def office_ddl() -> list[str]:
    """One CREATE TABLE IF NOT EXISTS per office table the schema file holds."""
    catalog = load_catalog()
    return [create_table_sql(catalog[name]) for name in OFFICE_TABLES if name in catalog]
