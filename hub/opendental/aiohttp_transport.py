"""httpx over aiohttp: the client keeps httpx's API, requests travel on aiohttp's connection pool.

Why: httpcore's pool checks every pooled connection on every request (a few syscalls each), so
its cost per request grows with the pool; aiohttp's does not, and parses replies in C. Measured
with ``hub bench`` (README: "How fast the hub is").

Why not the ``httpx-aiohttp`` package: it maps aiohttp's ``ServerDisconnectedError`` (the server
closed the connection without answering, after it had the request) to ``httpx.ConnectTimeout``,
which the hub reads as "never sent" and would send again: a second patient. Here every aiohttp
failure becomes the httpx exception with the same meaning for ``classify_transport``: not sent
(connect), or maybe sent (anything once the request was on its way). And aiohttp's own silent
retry of an idempotent method (PUT) on a dropped connection is turned off: the writer alone
decides what is sent again, after looking.
"""

from __future__ import annotations

import aiohttp
import httpx

# aiohttp's exceptions, most specific first, and the httpx class with the same meaning.
_MAPPED: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # pool wait or connect: not sent
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, unresolvable: not sent
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),  # sent, no reply in time
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),  # sent, closed unanswered
    (aiohttp.ClientPayloadError, httpx.ReadError),  # the reply broke off
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a reply that is not HTTP
    (aiohttp.ClientConnectionError, httpx.ReadError),  # reset or broken pipe once connected
    (aiohttp.ClientError, httpx.RemoteProtocolError),  # anything else: maybe sent
)


def translated(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception with the same meaning as an aiohttp one."""
    httpx_class = next(mapped for known, mapped in _MAPPED if isinstance(exc, known))
    return httpx_class(f"{type(exc).__name__}: {exc}", request=request)


def _client_timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    timeout = request.extensions.get("timeout", {})
    pool_s, connect_s = timeout.get("pool"), timeout.get("connect")
    # aiohttp's ``connect`` covers the wait for a pooled connection and the connect itself.
    acquire_s = None if pool_s is None or connect_s is None else pool_s + connect_s
    return aiohttp.ClientTimeout(
        total=None, connect=acquire_s, sock_connect=connect_s, sock_read=timeout.get("read")
    )


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (and pool) per transport, opened at the first request."""

    def __init__(self, *, max_connections: int) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0)
        session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, trust_env=False
        )
        # aiohttp resends an idempotent request once when a pooled connection drops; there is
        # no public switch (aio-libs/aiohttp#10790), and its own test client sets this the same.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open_session()
        try:
            async with self._session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=await request.aread() or None,
                allow_redirects=False,
                timeout=_client_timeout(request),
            ) as response:
                content = await response.read()
        except aiohttp.ClientError as exc:
            raise translated(exc, request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            content=content,
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("ascii", "replace"),
            },
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
