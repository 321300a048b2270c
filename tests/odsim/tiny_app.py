"""A tiny aiohttp app over real HTTP for testing the simulator's middlewares on their own.

A stand-in auth middleware builds the caller from test headers, so a test chooses the customer
key, mode and permissions per request; the handler only records that it ran.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from odsim.auth import CALLER_KEY, Caller
from tests.support.http_server import serving_app

KEY_HEADER = "X-Test-Customer-Key"
MODE_HEADER = "X-Test-Mode"
PERMS_HEADER = "X-Test-Permissions"


def caller_headers(
    key: str, *, mode: str = "remote", permissions: str = "Patients"
) -> dict[str, str]:
    return {KEY_HEADER: key, MODE_HEADER: mode, PERMS_HEADER: permissions}


@web.middleware
async def stand_in_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if KEY_HEADER in request.headers:
        caller = Caller(
            developer_name="Test Developer",
            customer_key=request.headers[KEY_HEADER],
            database="unused",
            permissions=frozenset(request.headers[PERMS_HEADER].split(",")),
            mode=request.headers[MODE_HEADER],
        )
        # As odsim.auth does: the seam is the plain string key, which aiohttp warns about once.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            request[CALLER_KEY] = caller
    return await handler(request)


@dataclass
class TinyApp:
    base_url: str
    handled: list[str]  # "METHOD path" of each handler run, in order


def _routes(handled: list[str]) -> list[web.RouteDef]:
    async def create(request: web.Request) -> web.Response:
        handled.append(f"POST {request.path}")
        return web.json_response({"PatNum": len(handled)}, status=201)

    async def read(request: web.Request) -> web.Response:
        handled.append(f"GET {request.path}")
        return web.json_response([])

    return [web.post("/api/v1/patients", create), web.get("/api/v1/patients", read)]


@asynccontextmanager
async def serve(
    middlewares: Sequence[Middleware], extra_routes: Sequence[web.RouteDef] = ()
) -> AsyncIterator[TinyApp]:
    """Serve stand-in auth, then ``middlewares``, then the recording handlers on a free port."""
    handled: list[str] = []
    app = web.Application(middlewares=[stand_in_auth, *middlewares])
    app.router.add_routes([*_routes(handled), *extra_routes])
    async with serving_app(app) as root:
        yield TinyApp(base_url=root, handled=handled)
