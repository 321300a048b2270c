"""The one HTTP client a process shares between every office: aiohttp's pool, nothing on top.

Why aiohttp and not httpx on this path: every intent makes one request here, and httpx's own
layer (its Request, URL and Headers models, cookie jar and hooks) costs about twice aiohttp's
whole request in CPU, measured with ``hub bench`` and a client benchmark (docs/performance.md).
The rest of the hub (management API, admin calls, tests) keeps httpx.

aiohttp's failures are classified where the client catches them (``classify_transport``), and
aiohttp's own silent resend of an idempotent method (PUT) on a dropped connection is turned off:
the writer alone decides what is sent again, after looking.
"""

from __future__ import annotations

import io
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import aiohttp

from hub.opendental.constants import CONNECT_TIMEOUT_S, POOL_TIMEOUT_S, READ_TIMEOUT_S

# aiohttp writes a body given as bytes in one piece and warns, over 1 MiB, that it may hold the
# event loop; a body above this size goes as a file-like object, which aiohttp streams in chunks
# (a document upload's base64 runs to 16 MB).
STREAMED_BODY_BYTES = 2**20

Query = Mapping[str, str | int]


def _body(content: str | bytes | None) -> str | bytes | io.BytesIO | None:
    if content is None or len(content) <= STREAMED_BODY_BYTES // 4:
        return content  # small: even in UTF-8 (4 bytes a character at most) under the limit
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return io.BytesIO(raw) if len(raw) > STREAMED_BODY_BYTES else raw


@dataclass(frozen=True, kw_only=True)
class HttpTimeouts:
    """Waits for a pooled connection, for a new connection, and for each read of the reply. Open
    Dental answers 504 after 60 s, so the read waits past it."""

    connect_s: float = CONNECT_TIMEOUT_S
    read_s: float = READ_TIMEOUT_S
    pool_s: float = POOL_TIMEOUT_S

    def as_aiohttp(self) -> aiohttp.ClientTimeout:
        # aiohttp's ``connect`` covers the wait for a pooled connection and the connect itself.
        return aiohttp.ClientTimeout(
            total=None,
            connect=self.pool_s + self.connect_s,
            sock_connect=self.connect_s,
            sock_read=self.read_s,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpReply:
    """A whole reply, read off the connection."""

    status_code: int
    reason_phrase: str
    headers: Mapping[str, str]  # case-insensitive
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class HttpClient:
    """One aiohttp session (and pool), opened at the first request inside the running loop; the
    caller closes it (``aclose``, or ``async with``) at shutdown.

    Raises aiohttp's exceptions as they are; the caller classifies them.
    """

    def __init__(
        self, timeouts: HttpTimeouts, *, max_connections: int, tls: ssl.SSLContext | None = None
    ) -> None:
        self._max_connections = max_connections
        self._tls = tls  # for https:// offices; None: aiohttp's default (the system's CAs)
        self._timeout = timeouts.as_aiohttp()
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Query | None = None,
        content: str | bytes | None = None,
    ) -> HttpReply:
        session = self._session or self._open_session()
        async with session.request(
            method,
            url,
            params=params,
            headers=headers,
            data=_body(content),
            allow_redirects=False,  # a redirect is a misconfigured base URL, never to follow
            timeout=self._timeout,
        ) as response:
            body = await response.read()
        return HttpReply(
            status_code=response.status,
            reason_phrase=response.reason or "",
            headers=response.headers,
            content=body,
        )

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections, limit_per_host=0, ssl=self._tls or True
        )
        session = aiohttp.ClientSession(connector=connector, trust_env=False)
        # aiohttp resends an idempotent request once when a pooled connection drops; there is
        # no public switch (aio-libs/aiohttp#10790), and its own test client sets this the same.
        session._retry_connection = False
        self._session = session
        return session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

