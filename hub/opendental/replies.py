"""Reading Open Dental's successful replies: objects, rows and the key of a created row.

A 2xx whose body cannot be read is a PermanentError: the request took effect (or at least was
accepted), so sending it again is never the answer; a person has to look.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from hub.errors import PermanentError
from hub.opendental.http_client import HttpReply
from hub.opendental.results import JsonValue, Row


@dataclass(frozen=True, kw_only=True)
class Table:
    """An Open Dental table the client writes, and the field holding its primary key."""

    name: str
    key_field: str


PATIENT = Table(name="patient", key_field="PatNum")
APPOINTMENT = Table(name="appointment", key_field="AptNum")
COMMLOG = Table(name="commlog", key_field="CommlogNum")
PAYMENT = Table(name="payment", key_field="PayNum")
DOCUMENT = Table(name="document", key_field="DocNum")
PATFIELD = Table(name="patfield", key_field="PatFieldNum")
ALLERGY = Table(name="allergy", key_field="AllergyNum")
MEDICATIONPAT = Table(name="medicationpat", key_field="MedicationPatNum")
DISEASE = Table(name="disease", key_field="DiseaseNum")
SHEET = Table(name="sheet", key_field="SheetNum")
SHEET_FIELD = Table(name="sheetfield", key_field="SheetFieldNum")


def _json(response: HttpReply) -> JsonValue:
    try:
        decoded: JsonValue = json.loads(response.content)
    except ValueError as exc:
        raise PermanentError(
            "Open Dental's reply is not JSON", status=response.status_code
        ) from exc
    return decoded


def object_of(response: HttpReply) -> Row:
    """The reply's JSON object."""
    decoded = _json(response)
    if not isinstance(decoded, dict):
        raise PermanentError("Open Dental's reply is not an object", status=response.status_code)
    return decoded


def optional_object_of(response: HttpReply) -> Row:
    """The reply's JSON object, or an empty one when it carries none (some PUTs, and POSTs of
    older versions, e.g. Commlogs before 23.3.7)."""
    if not response.content.strip():
        return {}
    decoded = _json(response)
    return decoded if isinstance(decoded, dict) else {}


def rows_of(response: HttpReply) -> list[Row]:
    """The reply's JSON array of objects."""
    decoded = _json(response)
    if not isinstance(decoded, list) or not all(isinstance(row, dict) for row in decoded):
        raise PermanentError(
            "Open Dental's reply is not a list of rows", status=response.status_code
        )
    return [row for row in decoded if isinstance(row, dict)]


def _location_key(response: HttpReply) -> str | None:
    location: str | None = response.headers.get("Location")
    if not location:
        return None
    path = location.split("?", 1)[0].split("#", 1)[0]
    return path.rstrip("/").rsplit("/", 1)[-1]


def created_key(table: Table, response: HttpReply, body: Row) -> int:
    """The created row's primary key: the body's key field, checked against Location."""
    value = body.get(table.key_field)
    location_key = _location_key(response)
    if value is None and location_key is not None and location_key.isdigit():
        value = int(location_key)  # older versions return no object for some POSTs
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise PermanentError(
            f"created {table.name} has no {table.key_field} in the reply",
            status=response.status_code,
        )
    if location_key is not None and location_key != str(value):
        raise PermanentError(
            f"created {table.name}: {table.key_field} {value} disagrees with the Location header",
            status=response.status_code,
        )
    return value


def check_updated_key(table: Table, primary_key: int, response: HttpReply, body: Row) -> None:
    """An updated object that names another row is a reply we cannot trust."""
    value = body.get(table.key_field)
    if value is not None and value != primary_key:
        raise PermanentError(
            f"updated {table.name} {primary_key} but the reply names {table.key_field} {value}",
            status=response.status_code,
        )
