"""The one httpx.AsyncClient a process shares between every office (one connection pool)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from hub.opendental.aiohttp_transport import AiohttpTransport
from hub.opendental.constants import (
    CONNECT_TIMEOUT_S,
    POOL_TIMEOUT_S,
    READ_TIMEOUT_S,
    WRITE_TIMEOUT_S,
)


@dataclass(frozen=True, kw_only=True)
class HttpTimeouts:
    """httpx's four timeouts. Open Dental answers 504 after 60 s, so the read waits past it."""

    connect_s: float = CONNECT_TIMEOUT_S
    read_s: float = READ_TIMEOUT_S
    write_s: float = WRITE_TIMEOUT_S
    pool_s: float = POOL_TIMEOUT_S

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_s, read=self.read_s, write=self.write_s, pool=self.pool_s
        )


def make_http_client(timeouts: HttpTimeouts, max_connections: int) -> httpx.AsyncClient:
    """Build the process's HTTP client; the caller closes it (``aclose``) at shutdown. Requests
    travel over aiohttp's pool (aiohttp_transport.py): the same API, a fraction of the CPU."""
    return httpx.AsyncClient(
        transport=AiohttpTransport(max_connections=max_connections),
        timeout=timeouts.as_httpx(),
        # A redirect from Open Dental is a misconfigured base URL, never something to follow.
        follow_redirects=False,
    )
