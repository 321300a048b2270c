"""Row-level SQL and reply helpers shared by the resource handlers.

Column names in the SQL come from the handlers' own field specs, never from the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import aiomysql
from aiohttp import web

from odsim.catalog import table
from odsim.fields import FieldSpec, office_now, parse_date, parse_datetime, parse_value
from odsim.render import Json, format_datetime
from odsim.state import Page, base_url

Row = dict[str, Any]


async def insert_row(cur: aiomysql.Cursor, table_name: str, values: Mapping[str, object]) -> int:
    columns = ", ".join(f"`{c}`" for c in values)
    marks = ", ".join(["%s"] * len(values))
    await cur.execute(
        f"INSERT INTO `{table_name}` ({columns}) VALUES ({marks})", tuple(values.values())
    )
    return int(cur.lastrowid)


async def update_row(
    cur: aiomysql.Cursor, table_name: str, key: int, values: Mapping[str, object]
) -> None:
    if not values:
        return
    sets = ", ".join(f"`{c}` = %s" for c in values)
    pk = table(table_name).primary_key
    await cur.execute(
        f"UPDATE `{table_name}` SET {sets} WHERE `{pk}` = %s", (*values.values(), key)
    )


async def fetch_row(
    cur: aiomysql.DictCursor, table_name: str, key: int, *, for_update: bool = False
) -> Row | None:
    pk = table(table_name).primary_key
    lock = " FOR UPDATE" if for_update else ""
    await cur.execute(f"SELECT * FROM `{table_name}` WHERE `{pk}` = %s{lock}", (key,))
    row: Row | None = await cur.fetchone()
    return row


@dataclass
class Where:
    """A WHERE clause built from trusted SQL fragments and bound parameters."""

    clauses: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    def add(self, clause: str, *params: object) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


def query_values(query: Mapping[str, str], specs: tuple[FieldSpec, ...]) -> dict[str, object]:
    """The URL filters among ``specs`` that were given; other parameters are ignored, as
    Open Dental ignores filters it does not know."""
    return {s.target: parse_value(s, query[s.name]) for s in specs if query.get(s.name)}


async def select_page(
    cur: aiomysql.DictCursor, table_name: str, where: Where, page: Page, *, order: str
) -> list[Row]:
    await cur.execute(
        f"SELECT * FROM `{table_name}`{where.sql()} ORDER BY {order} LIMIT %s OFFSET %s",
        (*where.params, page.limit, page.offset),
    )
    return list(await cur.fetchall())


def since_stamp(query: Mapping[str, str], name: str = "DateTStamp") -> date | datetime | None:
    """A "changed since" filter: a date-time, or (as Open Dental's examples send) a bare date."""
    value = query.get(name)
    if not value:
        return None
    if len(value) == 10:
        return parse_date(name, value)
    return parse_datetime(name, value)


def server_datetime() -> str:
    return format_datetime(office_now())


def created(
    request: web.Request, resource: str, key: int, body: Mapping[str, Json]
) -> web.Response:
    """201 with the object and a ``Location`` header, as Open Dental answers a POST."""
    response = web.json_response(dict(body), status=201)
    response.headers["Location"] = f"{base_url(request)}/{resource}/{key}"
    return response


def ok(body: object) -> web.Response:
    return web.json_response(body)
