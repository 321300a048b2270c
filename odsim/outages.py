"""Outages of one office at a time, set and cleared at run time: its customer key's every API
request answers as real Open Dental does while the office cannot be served.

- ``econnector_down``: 400 with the eConnector message (the office's server, and with it the
  eConnector, is off: a night, a weekend).
- ``unauthorized``: 401 "Customer key is disabled." (the office disabled the key, or it moved).

Independent of the global ``FaultConfig``: setting the faults neither clears an outage nor
restarts its count, so a run can hold some offices down while it injects faults elsewhere.
``PUT /admin/outages`` with ``{"customer_key": ..., "kind": ... | null}`` sets or clears one
office's outage; ``GET /admin/outages`` shows the outages and the requests each key was refused.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from odsim.auth import CALLER_KEY, KEY_DISABLED_MESSAGE, Caller
from odsim.errors import error_response
from odsim.faults import ECONNECTOR_DOWN_MESSAGE

log = logging.getLogger(__name__)


class OutageKind(StrEnum):
    ECONNECTOR_DOWN = "econnector_down"
    UNAUTHORIZED = "unauthorized"


_REPLIES = {
    OutageKind.ECONNECTOR_DOWN: (400, ECONNECTOR_DOWN_MESSAGE),
    OutageKind.UNAUTHORIZED: (401, KEY_DISABLED_MESSAGE),
}


class OutageChange(BaseModel):
    """One office's outage set (``kind``) or cleared (``kind`` null)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_key: str = Field(min_length=1)
    kind: OutageKind | None


class OutageController:
    """Holds the outages by customer key, applies them as middleware, serves /admin/outages."""

    def __init__(self, customer_keys: Iterable[str]) -> None:
        self._known = frozenset(customer_keys)
        self._outages: dict[str, OutageKind] = {}
        self._refused: Counter[str] = Counter()  # requests answered by an outage, per key
        self.middleware: Middleware = self._build_middleware()

    def set(self, change: OutageChange) -> None:
        if change.customer_key not in self._known:
            raise KeyError("no such customer key")
        if change.kind is None:
            self._outages.pop(change.customer_key, None)
        else:
            self._outages[change.customer_key] = change.kind
        # The key is a credential: the log names the kind only.
        log.info("outage changed", extra={"outage": change.kind and change.kind.value})

    def admin_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/admin/outages", self._get_admin),
            web.put("/admin/outages", self._put_admin),
        ]

    def _build_middleware(self) -> Middleware:
        @web.middleware
        async def outages(request: web.Request, handler: Handler) -> web.StreamResponse:
            caller: Caller | None = request.get(CALLER_KEY)
            kind = None if caller is None else self._outages.get(caller.customer_key)
            if caller is None or kind is None:
                return await handler(request)
            self._refused[caller.customer_key] += 1
            return error_response(*_REPLIES[kind])

        return outages

    def _admin_view(self) -> dict[str, object]:
        return {
            "outages": {key: kind.value for key, kind in sorted(self._outages.items())},
            "refused": dict(sorted(self._refused.items())),
        }

    async def _get_admin(self, request: web.Request) -> web.Response:
        return web.json_response(self._admin_view())

    async def _put_admin(self, request: web.Request) -> web.Response:
        try:
            self.set(OutageChange.model_validate_json(await request.read()))
        except ValidationError as exc:
            return web.json_response(
                {"errors": exc.errors(include_url=False, include_context=False)}, status=400
            )
        except KeyError:
            return web.json_response({"errors": [{"msg": "no such customer key"}]}, status=404)
        return web.json_response(self._admin_view())
