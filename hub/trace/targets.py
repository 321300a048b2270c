"""What ``hub trace`` is asked about, parsed from the command line: an intent or an Open Dental row.

``vendor:idempotency-key`` splits on the first colon only, because vendors choose their keys and a
key may hold colons (``formsco:2024:05:visit-9``); vendor names never do (registry pattern).
``table:primary-key`` names one of the tables the hub writes: patient, appointment, commlog,
payment, document, patfield, allergy, medicationpat, disease.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import HubError
from hub.opendental.reconcile_queries import OdTable

TABLES = ", ".join(table.value for table in OdTable)


class TraceError(HubError):
    """The trace cannot start: a target that does not parse, or an office that is not clear."""


@dataclass(frozen=True, kw_only=True)
class IntentTarget:
    vendor: str
    idempotency_key: str

    def __str__(self) -> str:
        return f"{self.vendor}:{self.idempotency_key}"


@dataclass(frozen=True, kw_only=True)
class RowTarget:
    table: OdTable
    primary_key: int

    def __str__(self) -> str:
        return f"{self.table.value}:{self.primary_key}"


def parse_intent_target(text: str) -> IntentTarget:
    vendor, colon, key = text.partition(":")
    if not (vendor and colon and key):
        raise TraceError(f"{text!r} is not VENDOR:IDEMPOTENCY_KEY")
    return IntentTarget(vendor=vendor, idempotency_key=key)


def parse_row_target(text: str) -> RowTarget:
    name, colon, number = text.partition(":")
    try:
        table = OdTable(name)
    except ValueError:
        raise TraceError(f"{text!r}: the table must be one of {TABLES}") from None
    if not (colon and number.isascii() and number.isdigit() and int(number) > 0):
        raise TraceError(f"{text!r}: the primary key must be a positive whole number")
    return RowTarget(table=table, primary_key=int(number))
