"""What every handler needs: the configuration and the office database pools."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from odsim.auth import API_PREFIX, Caller, caller_of
from odsim.config import ApiMode, SimConfig
from odsim.db import OfficePools
from odsim.errors import bad_request, invalid
from odsim.fields import parse_int


class SubscriptionsChanged(Protocol):
    """Told when the API changed an office's subscriptions (odsim/events.py's poller)."""

    def subscriptions_changed(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class SimState:
    config: SimConfig
    pools: OfficePools
    hash_secret: bytes  # the SecurityHash key (odsim/security_hash.py)
    events: SubscriptionsChanged


STATE_KEY = web.AppKey("odsim_state", SimState)


@dataclass(frozen=True, kw_only=True)
class Ctx:
    """One request's view: who calls, which office database, and the shared state."""

    caller: Caller
    state: SimState

    @property
    def database(self) -> str:
        return self.caller.database

    @property
    def pools(self) -> OfficePools:
        return self.state.pools

    @property
    def config(self) -> SimConfig:
        return self.state.config

    @property
    def hash_secret(self) -> bytes:
        return self.state.hash_secret


def ctx_of(request: web.Request) -> Ctx:
    return Ctx(caller=caller_of(request), state=request.app[STATE_KEY])


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}{API_PREFIX}"


async def json_body(request: web.Request) -> Mapping[str, Any]:
    """The request's JSON object; Open Dental wants ``Content-Type: application/json``."""
    if request.content_type != "application/json":
        raise bad_request("Content-Type must be application/json.")
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object.")
    return body


def url_id(request: web.Request, name: str) -> int:
    return parse_int(name, request.match_info[name])


@dataclass(frozen=True, kw_only=True)
class Page:
    limit: int
    offset: int


def page_of(request: web.Request, ctx: Ctx) -> Page:
    """Offset and Limit; Limit defaults to and is capped at the mode's maximum."""
    paging = ctx.config.paging
    remote = ctx.caller.mode == ApiMode.REMOTE.value
    maximum = paging.remote_max if remote else paging.service_max
    offset = parse_int("Offset", request.query["Offset"]) if "Offset" in request.query else 0
    limit = maximum
    if "Limit" in request.query:
        limit = parse_int("Limit", request.query["Limit"])
        if limit < 1:
            raise invalid("Limit")
    return Page(limit=min(limit, maximum), offset=offset)
