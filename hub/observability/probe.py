"""``hub check``: a running writer's ``/healthz`` and ``/readyz``, asked as a container health
check asks, and read into one line per failing check.

Both endpoints answer with ``{"failing": [names], "checks": {name: state}}``; anything else (a
timeout, nothing listening, another server on the port) is a failure of its own, naming the URL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ValidationError

from hub.observability.server import local_url
from hub.settings import HubSettings

ENDPOINTS = ("healthz", "readyz")


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    problems: tuple[str, ...]  # one line per failing check; none when healthy and ready

    @property
    def ok(self) -> bool:
        return not self.problems


class _Reply(BaseModel):
    failing: list[str]
    checks: dict[str, str]


def default_url(settings: HubSettings) -> str:
    """The writer's endpoints as ``hub worker`` binds them on this machine."""
    return local_url(settings.metrics_host, settings.metrics_port)


async def check_writer(url: str, timeout_s: float) -> CheckReport:
    """Ask both endpoints at once; the whole exchange takes at most ``timeout_s``."""
    base = url.rstrip("/")
    try:
        async with asyncio.timeout(timeout_s), httpx.AsyncClient(timeout=timeout_s) as http:
            replies = await asyncio.gather(*(http.get(f"{base}/{name}") for name in ENDPOINTS))
    except (TimeoutError, httpx.TimeoutException):
        return CheckReport(problems=(f"{base} did not answer within {timeout_s:g} s",))
    except httpx.HTTPError as exc:
        return CheckReport(problems=(f"cannot reach {base}: {_why(exc)}",))
    problems = [
        line for name, reply in zip(ENDPOINTS, replies, strict=True)
        for line in _failing(name, reply)
    ]
    return CheckReport(problems=tuple(problems))


def _failing(endpoint: str, reply: httpx.Response) -> list[str]:
    try:
        body = _Reply.model_validate_json(reply.content)
    except ValidationError:
        return [f"{endpoint}: not a writer's reply (HTTP {reply.status_code})"]
    if reply.status_code == httpx.codes.OK and not body.failing:
        return []
    if not body.failing:
        return [f"{endpoint}: HTTP {reply.status_code}"]
    return [f"{endpoint}: {name}: {body.checks.get(name, 'failing')}" for name in body.failing]


def _why(exc: BaseException) -> str:
    """The root cause's words: "connection refused" rather than httpx's "All connection
    attempts failed"."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused (is the writer running, on this port?)"
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__
