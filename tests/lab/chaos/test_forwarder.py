"""The outage run's stand-in for an office server that is off: a forwarder that refuses
connections (ECONNREFUSED) while stopped, cuts the ones that were open, and serves again on the
same port, over real HTTP to a real aiohttp server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx
import pytest
from aiohttp import web

from lab.chaos.forwarder import Forwarder
from lab.chaos.processes import free_port
from tests.support.http_server import serving_app


async def _hello(request: web.Request) -> web.Response:
    return web.json_response("hello")


@asynccontextmanager
async def _forwarded() -> AsyncIterator[Forwarder]:
    app = web.Application()
    app.router.add_get("/hello", _hello)
    async with serving_app(app) as root:
        target = urlsplit(root)
        assert target.hostname is not None and target.port is not None
        forwarder = Forwarder(port=free_port(), target_host=target.hostname,
                              target_port=target.port)
        await forwarder.listen()
        try:
            yield forwarder
        finally:
            await forwarder.close()


async def _refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


async def test_it_forwards_then_refuses_then_forwards_again_on_the_same_port() -> None:
    async with _forwarded() as forwarder:
        url = f"http://127.0.0.1:{forwarder.port}/hello"
        # Given a client that keeps its connection alive, served through the forwarder
        async with httpx.AsyncClient() as client:
            before = await client.get(url)
            # When the forwarder stops
            await forwarder.refuse()
            # Then the kept-alive connection is cut and a new connect is refused
            with pytest.raises(httpx.TransportError):
                await client.get(url)
            assert await _refused(forwarder.port)
            assert not forwarder.listening
            # When it listens again
            await forwarder.listen()
            after = await client.get(url)
    # Then the same port serves again
    assert (before.status_code, after.status_code) == (200, 200)
    assert after.json() == "hello"
    assert forwarder.accepted >= 2


async def test_a_connection_is_closed_at_once_when_the_target_is_down() -> None:
    # Given a forwarder to a port nothing listens on
    forwarder = Forwarder(port=free_port(), target_host="127.0.0.1", target_port=free_port())
    await forwarder.listen()
    try:
        # When a client connects through it and sends a request
        reader, writer = await asyncio.open_connection("127.0.0.1", forwarder.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    finally:
        await forwarder.close()
    # Then its connection ends without a byte
    assert reply == b""
