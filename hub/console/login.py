"""Signing in and out with a password from the users file.

The login form carries its own CSRF token (double submit: a cookie and a field that must match),
so no other site can sign a browser in as someone else. Failed logins are counted per user name
and client address and refused past the limit (429), and logged without the password.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets

from aiohttp import web

from hub.console.app import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    console_of,
    is_https,
    refuse,
    render,
    see_other,
    session_of,
)
from hub.console.users import UsersError, load_users, verify


def _login_form(
    request: web.Request, *, status: int = 200, error: str | None = None
) -> web.Response:
    # The browser's token stays while it has one: two tabs on the login page both work.
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", code=status, login_csrf=token, error=error)
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="Strict", secure=is_https(request),
        path="/login",
    )
    return response


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request)


async def login(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    form = await request.post()
    given, cookie = form.get("csrf"), request.cookies.get(LOGIN_COOKIE)
    if not (isinstance(given, str) and cookie and hmac.compare_digest(given, cookie)):
        return refuse(request, 403, "the login form's CSRF token is missing or wrong")
    name, password = str(form.get("user", "")).strip(), str(form.get("password", ""))
    address = request.remote or "unknown"
    if console.limiter.refused(name, address):
        return _login_form(request, status=429, error="too many failed logins: try again later")
    try:
        users = await asyncio.to_thread(load_users, console.settings.console.users_file)
    except UsersError as exc:
        return refuse(request, 503, str(exc))
    # argon2 is slow on purpose: off the event loop, so other pages go on meanwhile.
    user = await asyncio.to_thread(verify, users, name, password)
    if user is None:
        console.limiter.failed(name, address)
        return _login_form(request, status=401, error="wrong user name or password")
    console.limiter.succeeded(name, address)
    session = console.sessions.open(user)
    response = see_other("/intents")
    response.set_cookie(
        SESSION_COOKIE, session.token, httponly=True, samesite="Strict", secure=is_https(request),
        max_age=int(console.settings.console.session_ttl_s),
    )
    response.del_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    console_of(request).sessions.close(session_of(request).token or None)
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE)
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
