"""RabbitMQ's management API on several nodes of one cluster: the first that answers serves.

Every node of a cluster with the management plugin serves the whole cluster's API, so
``HUB_MANAGEMENT_URL`` may list them, comma-separated. ``FirstLiveNode`` is an httpx transport
(the HTTP seam): it sends each request to the node that answered last, and moves on to the next
one only when it cannot connect, before anything was sent; a node that answers with an error
has answered.
"""

from __future__ import annotations

import httpx

_UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout)


def management_urls(urls: str) -> list[httpx.URL]:
    """The URLs of a comma-separated list (one URL is a list of one)."""
    return [httpx.URL(url.strip()) for url in urls.split(",") if url.strip()]


def node_where(url: httpx.URL) -> str:
    return f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


class FirstLiveNode(httpx.AsyncBaseTransport):
    """Requests go to ``nodes[current]``, whatever host the client's base URL names."""

    def __init__(self, nodes: list[httpx.URL], inner: httpx.AsyncBaseTransport) -> None:
        self._nodes = nodes
        self._inner = inner
        self._current = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        unreachable: list[str] = []
        last: httpx.TransportError | None = None
        for step in range(len(self._nodes)):
            index = (self._current + step) % len(self._nodes)
            node = self._nodes[index]
            request.url = request.url.copy_with(scheme=node.scheme, host=node.host, port=node.port)
            request.headers["Host"] = request.url.netloc.decode("ascii")
            try:
                response = await self._inner.handle_async_request(request)
            except _UNREACHABLE as exc:
                unreachable.append(f"{node_where(node)} ({type(exc).__name__})")
                last = exc
                continue
            self._current = index
            return response
        raise httpx.ConnectError(
            "no node of the management API answered: " + ", ".join(unreachable), request=request
        ) from last

    async def aclose(self) -> None:
        await self._inner.aclose()
