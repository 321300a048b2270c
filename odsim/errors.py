"""Open Dental's error replies: a status and a bare message string, JSON-quoted.

Messages name fields and ids only, never the values a caller sent (they may be patient data).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler


class ApiError(Exception):
    """Raised by handlers; the innermost middleware turns it into Open Dental's reply."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def required(field: str) -> ApiError:
    return ApiError(400, f"{field} is required.")


def invalid(field: str, hint: str = "") -> ApiError:
    return ApiError(400, f"{field} is invalid.{' ' + hint if hint else ''}")


def error_response(status: int, message: str) -> web.Response:
    return web.json_response(message, status=status)


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Innermost: every handler's ApiError becomes a reply the outer middlewares can see."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message)
