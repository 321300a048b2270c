"""The office's setup, read-only: operatories, providers and definitions (opendental-api.md §8).
"""

from __future__ import annotations

from aiohttp import web

from odsim.auth import requires
from odsim.catalog import enum_of
from odsim.config import Permission
from odsim.errors import not_found
from odsim.fields import parse_bool
from odsim.handlers.common import (
    Where,
    fetch_row,
    ok,
    select_page,
    server_datetime,
    since_stamp,
)
from odsim.lookups import Lookups, load_lookups
from odsim.render import OutField, format_color, render
from odsim.state import ctx_of, page_of, url_id

routes = web.RouteTableDef()
_DEF_CATEGORIES = {number: name for name, number in enum_of("definition", "Category").items()}
_PROVIDER_OUT: tuple[OutField, ...] = (
    "ProvNum", "Abbr", "LName", "FName", "MI", "Suffix", "FeeSched", "Specialty", "SSN",
    "StateLicense", "IsSecondary", ("provColor", lambda r: format_color(r["ProvColor"])),
    "IsHidden", "UsingTIN", "SigOnFile", "NationalProvID", "DateTStamp", "IsNotPerson",
    "ProvStatus", "IsHiddenReport", "Birthdate", "SchedNote", "PreferredName",
)
_DEFINITION_OUT: tuple[OutField, ...] = (
    "DefNum", "ItemName", "ItemValue", ("Category", lambda r: int(r["Category"])),
    ("category", lambda r: _DEF_CATEGORIES.get(r["Category"], "")),
    ("isHidden", lambda r: "true" if r["IsHidden"] else "false"),
)


def _operatory_fields(lookups: Lookups) -> tuple[OutField, ...]:
    return (
        "OperatoryNum", "OpName", "Abbrev", "ItemOrder", "IsHidden", "ProvDentist",
        "ProvHygienist", "IsHygiene", "ClinicNum", "SetProspective", "IsWebSched",
        "OperatoryType", ("operatoryType", lambda r: lookups.def_name(r["OperatoryType"])),
    )


@routes.get("/api/v1/operatories")
@requires(Permission.READ_ALL)
async def get_operatories(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    where = Where()
    if request.query.get("ClinicNum", "").isdigit():
        where.add("ClinicNum = %s", int(request.query["ClinicNum"]))
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        rows = await select_page(cur, "operatory", where, page, order="ItemOrder, OperatoryNum")
        fields = _operatory_fields(await load_lookups(cur))
    return ok([render("operatory", row, fields) for row in rows])


@routes.get("/api/v1/operatories/{OperatoryNum:\\d+}")
@requires(Permission.READ_ALL)
async def get_operatory(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    async with ctx.pools.read(ctx.database) as cur:
        row = await fetch_row(cur, "operatory", url_id(request, "OperatoryNum"))
        if row is None:
            raise not_found("Operatory not found.")
        fields = _operatory_fields(await load_lookups(cur))
    return ok(render("operatory", row, fields))


@routes.get("/api/v1/providers")
@requires(Permission.READ_ALL)
async def get_providers(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    where = Where()
    stamp = since_stamp(dict(request.query))
    if stamp is not None:
        where.add("DateTStamp >= %s", stamp)
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        rows = await select_page(cur, "provider", where, page, order="ItemOrder, ProvNum")
    now = server_datetime()
    return ok([{**render("provider", row, _PROVIDER_OUT), "serverDateTime": now} for row in rows])


@routes.get("/api/v1/providers/{ProvNum:\\d+}")
@requires(Permission.READ_ALL)
async def get_provider(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    async with ctx.pools.read(ctx.database) as cur:
        row = await fetch_row(cur, "provider", url_id(request, "ProvNum"))
    if row is None:
        raise not_found("Provider not found.")
    return ok({**render("provider", row, _PROVIDER_OUT), "serverDateTime": server_datetime()})


@routes.get("/api/v1/definitions")
@requires(Permission.READ_ALL)
async def get_definitions(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    where = Where()
    # Only a numeric ``Category`` filters; ``category=`` or a name is silently ignored, as the
    # real API does.
    if request.query.get("Category", "").isdigit():
        where.add("Category = %s", int(request.query["Category"]))
    if not (request.query.get("includeHidden")
            and parse_bool("includeHidden", request.query["includeHidden"])):
        where.add("IsHidden = 0")
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        rows = await select_page(cur, "definition", where, page,
                                 order="Category, ItemOrder, DefNum")
    return ok([render("definition", row, _DEFINITION_OUT) for row in rows])
