"""The aiohttp transport under the hub's httpx client: every aiohttp failure keeps its meaning
for ``classify_transport`` (not sent, or maybe sent), and nothing is ever sent twice by it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from hub.errors import TransientError
from hub.opendental import HttpTimeouts, make_http_client
from hub.opendental.aiohttp_transport import translated
from hub.opendental.classify import classify_transport

REQUEST = httpx.Request("PUT", "http://127.0.0.1:1/api/v1/appointments/7/Break")
CONNECTION = aiohttp.client_reqrep.ConnectionKey(
    "127.0.0.1", 1, False, True, None, None, None
)
_REQUEST_INFO = aiohttp.RequestInfo(URL(str(REQUEST.url)), "PUT", CIMultiDictProxy(CIMultiDict()))


def _instances() -> list[tuple[aiohttp.ClientError, bool]]:
    """One of each aiohttp failure the transport can meet, and whether it may have been sent."""
    os_error = OSError(104, "Connection reset by peer")
    return [
        (aiohttp.ConnectionTimeoutError("pool or connect"), False),
        (aiohttp.ClientConnectorError(CONNECTION, OSError(111, "refused")), False),
        (aiohttp.SocketTimeoutError("read"), True),
        (aiohttp.ServerTimeoutError("read"), True),
        (aiohttp.ServerDisconnectedError(), True),
        (aiohttp.ClientPayloadError("cut short"), True),
        (aiohttp.ClientOSError(*os_error.args), True),
        (aiohttp.ClientConnectionResetError(), True),
        (aiohttp.ClientResponseError(_REQUEST_INFO, ()), True),
        (aiohttp.ClientError("anything else"), True),
    ]


@pytest.mark.parametrize(("error", "maybe_sent"), _instances(), ids=lambda v: type(v).__name__)
def test_each_aiohttp_failure_keeps_its_meaning(
    error: aiohttp.ClientError, maybe_sent: bool
) -> None:
    # Given an aiohttp failure, When the transport translates it and the client classifies it
    hub_error = classify_transport(translated(error, REQUEST))
    # Then it is transient, and possibly applied exactly when the request may have left
    assert isinstance(hub_error, TransientError)
    assert hub_error.maybe_applied is maybe_sent


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
    async with make_http_client(HttpTimeouts(), max_connections=2) as http:
        # When the client sends one PUT
        with pytest.raises(httpx.RemoteProtocolError):
            await http.put(f"{base_url}/api/v1/appointments/7/Break", content=b"{}")
    # Then the server saw it once: aiohttp's retry of idempotent methods is off
    assert len(seen) == 1
