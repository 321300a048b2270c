"""The process's HTTP client over real sockets: nothing is ever sent twice by it, a redirect is
never followed, compressed replies are read, a URL that is not HTTP is refused, and its timeouts
are the ones configured; a large body is streamed."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from hub.errors import PermanentError
from hub.opendental import HttpClient, HttpTimeouts
from hub.opendental.classify import classify_transport
from tests.support.http_server import serving_app


@pytest.fixture
async def dropping_server() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server that reads each request and closes the connection without answering."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", seen


async def test_a_dropped_put_is_not_sent_again(dropping_server: tuple[str, list[bytes]]) -> None:
    base_url, seen = dropping_server
    # Given an office that takes a PUT and closes the connection without a reply
    async with HttpClient(HttpTimeouts(), max_connections=2) as http:
        # When the client sends one PUT
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await http.request(
                "PUT", f"{base_url}/api/v1/appointments/7/Break", headers={}, content=b"{}"
            )
    # Then the server saw it once: aiohttp's retry of idempotent methods is off
    assert len(seen) == 1


@pytest.fixture
async def odd_server() -> AsyncIterator[str]:
    """A server answering with a redirect and with a gzip-compressed body."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    async def compressed(request: web.Request) -> web.Response:
        body = gzip.compress(b'{"PatNum": 12}')
        return web.Response(body=body, headers={"Content-Encoding": "gzip"}, status=201)

    app = web.Application()
    app.router.add_get("/redirect", redirect)
    app.router.add_post("/compressed", compressed)
    async with serving_app(app) as root:
        yield root


async def test_a_redirect_comes_back_as_it_is(odd_server: str) -> None:
    # Given an office URL that answers with a redirect
    async with HttpClient(HttpTimeouts(), max_connections=2) as http:
        # When it is asked
        reply = await http.request("GET", f"{odd_server}/redirect", headers={})
    # Then the redirect is the reply, not followed
    assert (reply.status_code, reply.is_success) == (302, False)
    assert reply.headers["location"] == "/elsewhere"  # headers are case-insensitive


async def test_a_compressed_reply_is_read_as_its_content(odd_server: str) -> None:
    # Given a proxy in front of Open Dental that gzips its replies
    async with HttpClient(HttpTimeouts(), max_connections=2) as http:
        # When a POST is answered
        reply = await http.request("POST", f"{odd_server}/compressed", headers={}, content="{}")
    # Then the body is the JSON, decompressed
    assert (reply.status_code, reply.content) == (201, b'{"PatNum": 12}')


def test_the_default_timeouts_wait_past_open_dentals_504() -> None:
    # Given the default timeouts, When they are given to aiohttp
    timeout = HttpTimeouts().as_aiohttp()
    # Then a reply may take 65 s per read (Open Dental answers 504 at 60 s), a connect 5 s, and
    # a connection from the pool 10 s more; nothing caps the whole request
    assert (timeout.total, timeout.sock_read, timeout.sock_connect, timeout.connect) == (
        None,
        65.0,
        5.0,
        15.0,
    )



@pytest.mark.parametrize("url", ["ftp://127.0.0.1/api/v1/patients", "127.0.0.1:30223/api/v1"])
async def test_a_url_that_is_not_http_is_refused_as_permanent(url: str) -> None:
    # Given an office whose base URL is not an HTTP URL (a typo in the registry)
    async with HttpClient(HttpTimeouts(), max_connections=1) as http:
        # When a request is made, Then aiohttp refuses it before sending anything
        with pytest.raises(aiohttp.ClientError) as caught:
            await http.request("POST", url, headers={}, content="{}")
    # And it classifies as permanent: sending it again would fail the same way
    assert type(classify_transport(caught.value)) is PermanentError


async def test_a_large_body_arrives_whole_streamed_not_in_one_write() -> None:
    # Given an office that echoes the size and type of what it was sent
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"size": len(body), "type": request.content_type,
                                  "tail": body[-8:].decode()})

    app = web.Application(client_max_size=32 * 2**20)
    app.router.add_post("/documents", echo)
    text = '{"rawBase64": "' + "QUJD" * (2**20) + '"}'  # a 4 MiB document upload's body
    async with serving_app(app) as root, HttpClient(HttpTimeouts(), max_connections=2) as http:
        # When the client posts it (aiohttp warns of a body this size given as bytes; the
        # suite's filterwarnings turns that warning into a failure)
        reply = await http.request("POST", f"{root}/documents", content=text,
                                   headers={"Content-Type": "application/json"})
    # Then it arrived whole, as JSON
    echoed = json.loads(reply.content)
    assert echoed == {"size": len(text), "type": "application/json", "tail": text[-8:]}
