"""SecurityLogs GET: only the calling developer's API rows (opendental-api.md §5.2).

Open Dental's own query: ``LogText LIKE '%by {DevName} through%' AND LogSource = 23``, newest
first; LogDateTime in its US display format.
"""

from __future__ import annotations

from aiohttp import web

from odsim.auth import requires
from odsim.catalog import enum_of
from odsim.config import Permission
from odsim.fields import FieldSpec, Kind
from odsim.handlers.common import Where, ok, query_values, select_page
from odsim.render import format_us_datetime, render
from odsim.state import ctx_of, page_of

routes = web.RouteTableDef()
_FILTERS = (FieldSpec(name="PermType", kind=Kind.ENUM, enum=enum_of("securitylog", "PermType")),)
_OUT = ("SecurityLogNum", "PermType", "UserNum", ("LogDateTime", lambda r: format_us_datetime(
    r["LogDateTime"])), "LogText", "PatNum", "CompName", "LogSource")


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@routes.get("/api/v1/securitylogs")
@requires(Permission.READ_ALL)
async def get_securitylogs(request: web.Request) -> web.StreamResponse:
    ctx = ctx_of(request)
    where = Where()
    where.add("LogText LIKE %s", f"%by {_like_literal(ctx.caller.developer_name)} through%")
    where.add("LogSource = %s", enum_of("securitylog", "LogSource")["API"])
    for column, value in query_values(dict(request.query), _FILTERS).items():
        where.add(f"`{column}` = %s", value)
    page = page_of(request, ctx)
    async with ctx.pools.read(ctx.database) as cur:
        rows = await select_page(cur, "securitylog", where, page, order="SecurityLogNum DESC")
    return ok([render("securitylog", row, _OUT) for row in rows])
