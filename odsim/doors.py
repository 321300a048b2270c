"""The other doors into an office's data, on demand: what a change looks like when it comes
from a front-desk user, from another API developer, or from a program writing the database
directly (issue 19). Not part of Open Dental's API: ``POST /admin/doors/{door}``, beside the
simulator's other admin routes, and ``hub sim door``.

Each door changes one row of patient, appointment, patfield or commlog (``set``: column names
and values as text; with none, an appointment is moved a day later, a reschedule), or deletes
an appointment (``delete``: the front desk and a direct writer can; the API has no DELETE for
appointments), and leaves the traces that door leaves in Open Dental:

- ``front-desk``: securitylog with the seeded user's UserNum (``DoorsConfig.front_desk_user``),
  LogSource None, the workstation as CompName, the PermType of the change (PatientEdit,
  AppointmentMove when AptDateTime or Op moved, ApptConfirmStatusEdit when only Confirmed
  changed, else AppointmentEdit, PatientFieldEdit, CommlogEdit) and a LogText naming the changed
  columns, never their values; a histappointment copy with HistUserNum; SecurityHash recomputed.
- ``other-api``: as an API write of another developer: LogSource API, UserNum 0, "Updated by
  {DoorsConfig.other_developer_name} through API.", histappointment with HistUserNum 0,
  SecurityHash recomputed.
- A front-desk delete: the histappointment copy with HistApptAction Deleted, a deletedobject
  row (ObjectType Appointment), the AppointmentDelete securitylog, then the row is gone.
- ``direct-db``: the UPDATE (or DELETE) alone. MariaDB moves DateTStamp (SecDateTEdit); no
  securitylog, no histappointment, and the SecurityHash left as it was: stale when a hashed
  column changed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

import aiomysql
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from odsim.audit import LogEntry, api_text, log_appointment_history, log_write
from odsim.catalog import Column, table
from odsim.errors import ApiError, bad_request, not_found
from odsim.fields import office_now
from odsim.handlers.common import Row, fetch_row, update_row
from odsim.security_hash import is_hashed, rehash
from odsim.state import STATE_KEY, SimState

DoorTable = Literal["patient", "appointment", "patfield", "commlog"]
# Columns no door sets: keys, and what the database or Open Dental itself maintains.
_UNSETTABLE = frozenset({"DateTStamp", "SecDateTEdit", "SecurityHash"})
_INT_TYPES = frozenset({"tinyint", "smallint", "int", "bigint"})
_FLOAT_TYPES = frozenset({"double", "float", "decimal"})
_WHAT = {
    "PatientEdit": "Patient edited", "AppointmentMove": "Appointment moved",
    "AppointmentEdit": "Appointment edited", "ApptConfirmStatusEdit": "Appointment confirmed",
    "PatientFieldEdit": "Patient field edited", "CommlogEdit": "Commlog edited",
}


class Door(StrEnum):
    FRONT_DESK = "front-desk"
    OTHER_API = "other-api"
    DIRECT_DB = "direct-db"


class DoorChange(BaseModel):
    """One row to change: the office by its customer key, the table, the key, the values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_key: str = Field(min_length=1)
    table: DoorTable
    key: int = Field(gt=0)
    set: dict[str, str] = Field(default_factory=dict)
    delete: bool = False  # an appointment only, with no ``set``


class DoorResult(BaseModel):
    """What changed and the trace it left (SecurityLogNum; None for direct-db)."""

    door: Door
    table: DoorTable
    key: int
    changed: list[str]  # the changed columns (none for a delete)
    deleted: bool = False
    security_log_num: int | None
    user_num: int | None = None  # the front desk's UserNum
    developer: str | None = None  # the other API developer's DevName


def _parse(column: Column, text: str) -> object:
    """The stored form of a value given as text; errors name the column, never the value."""
    base = column.base_type
    try:
        if column.enum is not None:
            return column.enum[text] if text in column.enum else int(text)
        if base in _INT_TYPES:
            return int(text)
        if base in _FLOAT_TYPES:
            return float(text)
        if base == "date":
            return date.fromisoformat(text)
        if base == "datetime":
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise bad_request(f"{column.name} is invalid.") from None
    if column.max_length is not None and len(text) > column.max_length:
        raise bad_request(f"{column.name} is too long.")
    return text


def _values(table_name: str, row: Row, given: dict[str, str]) -> dict[str, object]:
    tbl = table(table_name)
    if not given:
        if table_name != "appointment":
            raise bad_request(f"set is required for {table_name}.")
        return {"AptDateTime": row["AptDateTime"] + timedelta(days=1)}  # a reschedule
    values: dict[str, object] = {}
    for name, text in given.items():
        if name not in tbl.column_names:
            raise bad_request(f"{name} is not a column of {table_name}.")
        if name == tbl.primary_key or name in _UNSETTABLE:
            raise bad_request(f"{name} is not settable.")
        values[name] = _parse(tbl.column(name), text)
    return values


def perm_for(table_name: str, changed: list[str]) -> str:
    """The PermType Open Dental logs for this change."""
    if table_name == "patient":
        return "PatientEdit"
    if table_name == "patfield":
        return "PatientFieldEdit"
    if table_name == "commlog":
        return "CommlogEdit"
    if {"AptDateTime", "Op"} & set(changed):
        return "AppointmentMove"
    if changed == ["Confirmed"]:
        return "ApptConfirmStatusEdit"
    return "AppointmentEdit"


async def _user_num(cur: aiomysql.DictCursor, user_name: str) -> int:
    await cur.execute("SELECT UserNum FROM userod WHERE UserName = %s", (user_name,))
    row = await cur.fetchone()
    if row is None:
        raise bad_request("The front desk's user is not in userod.")
    return int(row["UserNum"])


def _database(state: SimState, customer_key: str) -> str:
    for customer in state.config.customers:
        if customer.key == customer_key:
            return customer.database
    raise not_found("Customer key is not configured.")


async def _trace(
    cur: aiomysql.DictCursor, state: SimState, door: Door, change: DoorChange, row: Row,
    changed: list[str],
) -> DoorResult:
    """The securitylog (and histappointment, SecurityHash) a legitimate writer leaves."""
    now = office_now()
    perm = perm_for(change.table, changed)
    pat_num, doors = int(row["PatNum"]), state.config.doors
    user_num, developer = None, None
    if door is Door.FRONT_DESK:
        user_num = await _user_num(cur, doors.front_desk_user)
        entry = LogEntry(perm=perm, text=f"{_WHAT[perm]}: {', '.join(changed) or 'nothing'}.",
                         pat_num=pat_num, fkey=change.key, user_num=user_num, source="None",
                         comp_name=doors.front_desk_workstation)
    else:
        developer = doors.other_developer_name
        entry = LogEntry(perm=perm, text=api_text("Updated", developer), pat_num=pat_num,
                         fkey=change.key)
    if is_hashed(change.table):
        await rehash(cur, state.hash_secret, change.table, change.key)
    if change.table == "appointment":
        await log_appointment_history(cur, change.key, action="Changed", now=now,
                                      user_num=user_num or 0)
    log_num = await log_write(cur, entry, now=now)
    return DoorResult(door=door, table=change.table, key=change.key, changed=changed,
                      security_log_num=log_num, user_num=user_num, developer=developer)


def _check_delete(door: Door, change: DoorChange) -> None:
    if change.table != "appointment" or change.set:
        raise bad_request("delete is for an appointment, with no set.")
    if door is Door.OTHER_API:
        raise bad_request("appointments DELETE  is not a valid method.")


async def _delete(
    cur: aiomysql.DictCursor, state: SimState, door: Door, change: DoorChange, row: Row
) -> DoorResult:
    """Delete the appointment as the front desk (with its traces) or a direct writer does."""
    user_num, log_num = None, None
    if door is Door.FRONT_DESK:
        now = office_now()
        user_num = await _user_num(cur, state.config.doors.front_desk_user)
        await log_appointment_history(cur, change.key, action="Deleted", now=now,
                                      user_num=user_num)
        await cur.execute("INSERT INTO deletedobject (ObjectNum, ObjectType) VALUES (%s, 0)",
                          (change.key,))
        log_num = await log_write(cur, LogEntry(
            perm="AppointmentDelete", text="Appointment deleted.", pat_num=int(row["PatNum"]),
            fkey=change.key, user_num=user_num, source="None",
            comp_name=state.config.doors.front_desk_workstation,
        ), now=now)
    await cur.execute("DELETE FROM appointment WHERE AptNum = %s", (change.key,))
    return DoorResult(door=door, table=change.table, key=change.key, changed=[], deleted=True,
                      security_log_num=log_num, user_num=user_num)


async def open_door(state: SimState, door: Door, change: DoorChange) -> DoorResult:
    """Change (or delete) the row the way ``door`` does, in one transaction."""
    database = _database(state, change.customer_key)
    if change.delete:
        _check_delete(door, change)
    async with state.pools.transaction(database) as cur:
        before = await fetch_row(cur, change.table, change.key, for_update=True)
        if before is None:
            raise not_found(f"{change.table} {change.key} not found.")
        if change.delete:
            return await _delete(cur, state, door, change, before)
        values = _values(change.table, before, change.set)
        await update_row(cur, change.table, change.key, values)
        after = await fetch_row(cur, change.table, change.key)
        assert after is not None
        changed = [name for name in values if after[name] != before[name]]
        if door is Door.DIRECT_DB:
            return DoorResult(door=door, table=change.table, key=change.key, changed=changed,
                              security_log_num=None)
        return await _trace(cur, state, door, change, after, changed)


async def _post_door(request: web.Request) -> web.Response:
    try:
        door = Door(request.match_info["door"])
    except ValueError:
        raise not_found("No such door: front-desk, other-api or direct-db.") from None
    try:
        change = DoorChange.model_validate_json(await request.read())
    except ValidationError as exc:
        return web.json_response(
            {"errors": exc.errors(include_url=False, include_context=False)}, status=400
        )
    try:
        result = await open_door(request.app[STATE_KEY], door, change)
    except aiomysql.Error as exc:  # a value MariaDB refused for its column
        raise ApiError(400, f"The database refused the change ({type(exc).__name__}).") from exc
    return web.json_response(result.model_dump(mode="json"))


def doors_routes() -> list[web.RouteDef]:
    return [web.post("/admin/doors/{door}", _post_door)]
