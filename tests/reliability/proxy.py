"""A TCP proxy that can also refuse: ``block()`` cuts every connection and closes each new one at
once (a server down), ``unblock()`` forwards again. Built on tests/adapters/proxy.py."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.adapters.proxy import TcpProxy


class BlockingProxy(TcpProxy):
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        super().__init__(upstream_host, upstream_port)
        self.blocked = False
        self.refused = 0  # connections closed at once while blocked

    def block(self) -> None:
        self.blocked = True
        self.cut()

    def unblock(self) -> None:
        self.blocked = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.blocked:
            await super().handle(reader, writer)
            return
        self.refused += 1
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@asynccontextmanager
async def blocking_proxy(host: str, port: int) -> AsyncIterator[tuple[BlockingProxy, int]]:
    """A running proxy to ``host:port`` and the local port it listens on."""
    proxy = BlockingProxy(host, port)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    local_port = int(server.sockets[0].getsockname()[1])
    try:
        yield proxy, local_port
    finally:
        server.close()
        await server.wait_closed()
        await proxy.closed()


def free_port() -> int:
    """A local port nothing listens on now: connecting to it is refused until one does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def forwarding(port: int, host: str, upstream_port: int) -> AsyncIterator[TcpProxy]:
    """From now on, ``port`` forwards to ``host:upstream_port`` (a server coming back)."""
    proxy = TcpProxy(host, upstream_port)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", port)
    try:
        yield proxy
    finally:
        server.close()
        await server.wait_closed()
        await proxy.closed()
