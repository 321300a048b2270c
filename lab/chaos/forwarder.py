"""An office's Open Dental that can go away: a TCP forwarder in front of the simulator, on a port
of its own, that stops listening (a connect is then refused, ECONNREFUSED, as when the office's
server is off) and listens again on the same port.

Stopping also cuts the connections already open: the writer keeps its HTTP connections alive,
and a server that is off answers none of them either. One forwarder per office, so an office's
outage never touches another's connections.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass

CHUNK_BYTES = 65536
HOST = "127.0.0.1"


@dataclass(frozen=True, kw_only=True, eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter

    def cut(self) -> None:
        self.client.close()
        self.upstream.close()


class Forwarder:
    """Forwards ``127.0.0.1:port`` to ``target_host:target_port`` while it listens."""

    def __init__(self, *, port: int, target_host: str, target_port: int) -> None:
        self.port = port
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepted = 0  # connections forwarded, over every listening spell

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def listen(self) -> None:
        """Accept and forward connections on the port (again); no-op while listening."""
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, HOST, self.port,
                                                      reuse_address=True)

    async def refuse(self) -> None:
        """Stop listening, so a connect is refused, and cut every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for link in list(self._links):
            link.cut()
        if server is not None:
            await server.wait_closed()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.refuse()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()  # the target is down too: the client sees its connection closed
            return
        link = _Link(client=writer, upstream=up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            self._links.discard(link)
            link.cut()
            for stream in (writer, up_writer):
                with suppress(OSError):
                    await stream.wait_closed()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # Either side closing ends the pump: a cut is the point, not an error.
    with suppress(OSError):
        while data := await reader.read(CHUNK_BYTES):
            if writer.is_closing():
                return
            writer.write(data)
            await writer.drain()
    writer.close()
