"""A real aiohttp application on a free loopback port, for tests that need an HTTP peer; and
asking a URL until it answers a status."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from aiohttp import web

GUARD_S = 30.0  # how long ``until_status`` asks before failing the test instead of hanging it
POLL_S = 0.02


@asynccontextmanager
async def serving_app(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` for the block; yields its root URL, ``http://127.0.0.1:<port>``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def until_status(client: httpx.AsyncClient, url: str, status: int) -> httpx.Response:
    """Ask ``url`` until it answers ``status`` (a server not listening yet is asked again);
    fails after the guard naming the last reply."""
    reply: httpx.Response | None = None
    try:
        async with asyncio.timeout(GUARD_S):  # a guard, not a timing
            while True:
                try:
                    reply = await client.get(url)
                except httpx.ConnectError:
                    reply = None
                if reply is not None and reply.status_code == status:
                    break
                await asyncio.sleep(POLL_S)
    except TimeoutError:
        last = "nothing" if reply is None else f"{reply.status_code} {reply.text}"
        raise AssertionError(f"{url} never answered {status}; last: {last}") from None
    return reply
