"""A TCP proxy in front of the broker, to cut a vendor's connection at a chosen moment.

``hold_replies()`` stops forwarding what the broker sends (its publisher confirms among it) while
the vendor's frames still reach the broker; ``cut()`` then closes every connection, as a network
failure would. New connections are forwarded normally.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

_CHUNK_BYTES = 65536


@dataclass(kw_only=True, eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    replies: asyncio.Event = field(default_factory=asyncio.Event)

    def close(self) -> None:
        self.client.close()
        self.upstream.close()


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[object]] = set()
        self.connections = 0

    def hold_replies(self) -> None:
        """Stop forwarding the broker's bytes on the open connections."""
        for link in self._links:
            link.replies.clear()

    def cut(self) -> None:
        """Close every open connection; the proxy keeps accepting new ones."""
        for link in self._links:
            link.close()
            link.replies.set()  # wakes a held pump, which then sees its writer closing

    async def closed(self) -> None:
        """Wait until every connection's pumps have ended."""
        self.cut()
        await asyncio.gather(*self._tasks)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        link = _Link(client=writer, upstream=up_writer)
        link.replies.set()
        always = asyncio.Event()
        always.set()
        self._links.add(link)
        try:
            await asyncio.gather(
                _pump(reader, up_writer, always), _pump(up_reader, writer, link.replies)
            )
        finally:
            self._links.discard(link)
            link.close()
            for stream in (writer, up_writer):
                with contextlib.suppress(OSError):
                    await stream.wait_closed()


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, gate: asyncio.Event
) -> None:
    # Either side closing ends the pump: a cut is the point, not an error.
    with contextlib.suppress(OSError):
        while data := await reader.read(_CHUNK_BYTES):
            await gate.wait()
            if writer.is_closing():
                return
            writer.write(data)
            await writer.drain()
    writer.close()


@asynccontextmanager
async def tcp_proxy(upstream_host: str, upstream_port: int) -> AsyncIterator[tuple[TcpProxy, int]]:
    """A running proxy and the local port it listens on; every connection is closed on exit."""
    proxy = TcpProxy(upstream_host, upstream_port)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        yield proxy, port
    finally:
        server.close()
        await server.wait_closed()
        await proxy.closed()
