"""What Allergies, MedicationPats and Diseases share (opendental-api.md §4.6): a POST adds one row
to a patient's clinical list, naming the list item either by its key or by its name, and a GET
lists the patient's rows. Each resource's module declares its ``PatientList``; ``list_routes``
serves it.

A name is matched to the office's item case-insensitively, as Open Dental's lookups by
description do; a key must name an item that exists. What a name that matches nothing does
differs by resource (``MissingName``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import aiomysql
from aiohttp import web

from odsim.audit import log_api_write
from odsim.auth import requires
from odsim.catalog import table
from odsim.config import Permission
from odsim.errors import bad_request, required
from odsim.fields import FieldSpec, Kind, int_of, parse_fields
from odsim.handlers.common import Row, Where, created, fetch_row, insert_row, ok, select_page
from odsim.handlers.patient_rules import known_patient, live_patient
from odsim.lookups import load_lookups
from odsim.render import JsonObject, render
from odsim.state import Ctx, Page, ctx_of, json_body, page_of


class MissingName(StrEnum):
    CREATE = "create"  # the item is added to the office's list (allergies, medications)
    REFUSE = "refuse"  # 400 (problems: UNCONFIRMED, opendental-api.md §4.6 says nothing)


@dataclass(frozen=True, kw_only=True)
class ListItem:
    """The office's list a patient's row points into, e.g. allergydef.Description."""

    table: str  # allergydef
    key: str  # AllergyDefNum: the API field and the column both
    name_column: str  # Description
    name_field: str  # defDescription: the API's field for the item's name
    missing: MissingName
    extra: Mapping[str, object]  # columns a created item gets besides its name


async def _by_name(cur: aiomysql.DictCursor, item: ListItem, name: str) -> int | None:
    await cur.execute(
        f"SELECT `{item.key}` FROM `{item.table}` WHERE LOWER(`{item.name_column}`) = LOWER(%s)"
        f" ORDER BY `{item.key}` LIMIT 1", (name,),
    )
    row: Row | None = await cur.fetchone()
    return None if row is None else int(row[item.key])


async def item_key(cur: aiomysql.DictCursor, item: ListItem, values: dict[str, object]) -> int:
    """The item the request names: its name wins over its key, as the API's pages say of the
    other name-or-key pairs; one of the two is required."""
    name = values.pop(item.name_field, None)
    if name is not None and str(name).strip():
        found = await _by_name(cur, item, str(name).strip())
        if found is not None:
            return found
        if item.missing is MissingName.REFUSE:
            raise bad_request(f"{item.name_field} does not match a {item.table}.")
        return await insert_row(
            cur, item.table, {item.name_column: str(name).strip(), **item.extra}
        )
    if item.key not in values:
        raise required(f"{item.name_field} or {item.key}")
    key = int_of(values, item.key)
    await cur.execute(f"SELECT 1 FROM `{item.table}` WHERE `{item.key}` = %s", (key,))
    if await cur.fetchone() is None:
        raise bad_request(f"{item.key} is invalid.")
    return key


@dataclass(frozen=True, kw_only=True)
class PatientList:
    """One resource: its table, the fields its POST takes, the list item it names, its
    securitylog entry and the columns it answers with."""

    table: str  # allergy
    resource: str  # allergies: the URL's
    fields: tuple[FieldSpec, ...]
    item: ListItem
    perm: str  # PatAllergyListEdit
    what: str  # "Allergy added": the securitylog's text before " by {developer} through API."
    defaults: Mapping[str, object]
    out: tuple[str, ...]


async def add_to_list(
    ctx: Ctx, spec: PatientList, values: dict[str, object]
) -> tuple[int, JsonObject]:
    if "PatNum" not in values:
        raise required("PatNum")
    pat_num = int_of(values, "PatNum")
    async with ctx.pools.transaction(ctx.database) as cur:
        await live_patient(cur, pat_num)
        if "ProvNum" in values:
            (await load_lookups(cur)).check_provider("ProvNum", int_of(values, "ProvNum"))
        values[spec.item.key] = await item_key(cur, spec.item, values)
        num = await insert_row(cur, spec.table, {**spec.defaults, **values})
        await log_api_write(cur, ctx.caller, perm=spec.perm, what=spec.what, pat_num=pat_num,
                            fkey=num)
        row = await fetch_row(cur, spec.table, num)
    assert row is not None
    return num, render(spec.table, row, spec.out)


async def list_rows(ctx: Ctx, spec: PatientList, pat_num: object, page: Page) -> list[JsonObject]:
    """The patient's rows, by key (Open Dental's list GETs take PatNum)."""
    where = Where()
    async with ctx.pools.read(ctx.database) as cur:
        values = parse_fields({"PatNum": pat_num}, (FieldSpec(name="PatNum", kind=Kind.INT),))
        await known_patient(cur, int_of(values, "PatNum"))
        where.add("PatNum = %s", values["PatNum"])
        rows = await select_page(cur, spec.table, where, page, order=table(spec.table).primary_key)
    return [render(spec.table, row, spec.out) for row in rows]


def list_routes(spec: PatientList) -> list[web.RouteDef]:
    """POST (AllOthers) and GET ``?PatNum=`` (ReadAll) of the resource."""
    path = f"/api/v1/{spec.resource}"

    @requires(Permission.ALL_OTHERS)
    async def post(request: web.Request) -> web.StreamResponse:
        values = parse_fields(await json_body(request), spec.fields)
        num, reply = await add_to_list(ctx_of(request), spec, values)
        return created(request, spec.resource, num, reply)

    @requires(Permission.READ_ALL)
    async def get(request: web.Request) -> web.StreamResponse:
        if "PatNum" not in request.query:
            raise required("PatNum")
        ctx = ctx_of(request)
        return ok(await list_rows(ctx, spec, request.query["PatNum"], page_of(request, ctx)))

    return [web.post(path, post), web.get(path, get)]
