"""``Authorization: ODFHIR {DeveloperKey}/{CustomerKey}`` and the API permission groups.

Unknown, malformed or disabled keys get 401 with a bare string, as do keys lacking the
permission group a method needs. The authenticated caller is left on the request for the
throttle, the faults and the handlers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from odsim.config import CustomerConfig, Permission, SimConfig
from odsim.errors import error_response

API_PREFIX = "/api/v1"
CALLER_KEY = "od_caller"
SCHEME = "ODFHIR"
_PERMISSION_ATTR = "od_permission"
KEY_DISABLED_MESSAGE = "Customer key is disabled."

H = TypeVar("H", bound=Callable[..., object])


@dataclass(frozen=True, kw_only=True)
class Caller:
    developer_name: str
    customer_key: str
    database: str
    permissions: frozenset[str]
    mode: str  # "service" | "remote" | "local"


def requires(permission: Permission) -> Callable[[H], H]:
    """Mark a handler with the permission group its method needs."""

    def mark(handler: H) -> H:
        setattr(handler, _PERMISSION_ATTR, permission)
        return handler

    return mark


def caller_of(request: web.Request) -> Caller:
    caller: Caller = request[CALLER_KEY]
    return caller


def _split_header(header: str | None) -> tuple[str, str] | None:
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    dev_key, slash, cust_key = credentials.strip().partition("/")
    if scheme != SCHEME or not slash or not dev_key or not cust_key:
        return None
    return dev_key, cust_key


class _KeyBook:
    def __init__(self, config: SimConfig) -> None:
        self._config = config
        self._developers = {d.key: d.name for d in config.developers}
        self._customers = {c.key: c for c in config.customers}

    def authenticate(self, header: str | None) -> Caller | str:
        """The caller, or the 401 message."""
        if header is None:
            return "Authorization header is required."
        keys = _split_header(header)
        if keys is None:
            return (
                "Authorization header is invalid."
                " Format must be ODFHIR {DeveloperKey}/{CustomerKey}."
            )
        dev_key, cust_key = keys
        if dev_key not in self._developers:
            return "Developer key is invalid."
        customer = self._customers.get(cust_key)
        if customer is None or customer.developer not in (None, dev_key):
            return "Customer key is invalid."
        if not customer.enabled:
            return KEY_DISABLED_MESSAGE
        return self._caller(self._developers[dev_key], customer)

    def _caller(self, developer_name: str, customer: CustomerConfig) -> Caller:
        return Caller(
            developer_name=developer_name,
            customer_key=customer.key,
            database=customer.database,
            permissions=frozenset(p.value for p in customer.permissions),
            mode=(customer.mode or self._config.mode).value,
        )


def _store_caller(request: web.Request, caller: Caller) -> None:
    # The seam with the throttle and faults is the plain string key "od_caller"; aiohttp would
    # rather have a RequestKey and warns once per process, which the test suite turns to errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        request[CALLER_KEY] = caller


def _needed_permission(request: web.Request) -> Permission | None:
    handler = request.match_info.route.handler
    permission: Permission | None = getattr(handler, _PERMISSION_ATTR, None)
    return permission


def auth_middleware(config: SimConfig) -> Middleware:
    """Outermost middleware for /api/v1: authenticate, then check the permission group."""
    book = _KeyBook(config)

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        caller = book.authenticate(request.headers.get("Authorization"))
        if isinstance(caller, str):
            return error_response(401, caller)
        needed = _needed_permission(request)
        if needed is not None and needed.value not in caller.permissions:
            return error_response(
                401, f"This customer key does not have permission for {needed.value}."
            )
        _store_caller(request, caller)
        return await handler(request)

    return authenticate
