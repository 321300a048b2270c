"""The console's web application: its context, the middlewares every request passes, and the
server ``hub console`` runs.

    request ─▶ headers (CSP, no-store, nosniff) ─▶ who (session cookie, or a trusted proxy's
    header) ─▶ CSRF on every POST ─▶ the page (its role checked) ─▶ the same functions as the CLI

Pages render server-side with Jinja2 (autoescaped) and plain forms: no script runs in the
browser, so the CSP allows none.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from hub.console.auth import LoginLimiter, ProxyTrust, Session, Sessions
from hub.console.users import Role, UsersError, load_users
from hub.dlq import DlqNames
from hub.dlq.model import DEFAULT_NAMES
from hub.ledger.mysql_session import MySqlSession, ignore_query
from hub.settings import HubSettings

if TYPE_CHECKING:
    from hub.console.bulk_replay import BulkReplay

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "hub_console"
LOGIN_COOKIE = "hub_console_login"  # the login form's CSRF token (double submit)
# A browser's own favicon request must not land on the login page: it would start another login.
PUBLIC_PATHS = ("/login", "/static/", "/favicon.ico")
SEARCH_CONNECTIONS = 4
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # search URLs carry keys and ids: never sent onwards
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(kw_only=True)
class Console:
    """What every page needs: the hub's settings (the same the CLI builds) and the console's
    own state. Tests inject their own dead-letter queue through ``where``."""

    settings: HubSettings
    environ: Mapping[str, str]
    where: DlqNames = DEFAULT_NAMES
    sessions: Sessions
    limiter: LoginLimiter
    proxy: ProxyTrust
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    templates: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined,
        )
    )
    search_db: MySqlSession | None = None  # opened with the application
    replays: dict[str, BulkReplay] = field(default_factory=dict)  # this process's bulk replays

    @classmethod
    def of(
        cls, settings: HubSettings, environ: Mapping[str, str], where: DlqNames = DEFAULT_NAMES
    ) -> Console:
        console = settings.console
        return cls(
            settings=settings, environ=environ, where=where,
            sessions=Sessions(ttl_s=console.session_ttl_s),
            limiter=LoginLimiter(
                failures=console.login_failures, lockout_s=console.login_lockout_s
            ),
            proxy=ProxyTrust.of(console),
        )

    def proxy_csrf(self, user: str) -> str:
        """A proxied user has no login, so no session: their CSRF token is derived."""
        return hmac.new(self.secret, f"proxy:{user}".encode(), hashlib.sha256).hexdigest()


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("session", Session)  # aiohttp 3.14's typed request storage


def console_of(request: web.Request) -> Console:
    return request.app[CONSOLE]


def session_of(request: web.Request) -> Session:
    return request[SESSION]  # the who middleware sets it before every page but the public ones


def render(
    request: web.Request, template: str, *, code: int = 200, **values: object
) -> web.Response:
    session = request.get(SESSION)
    page = console_of(request).templates.get_template(template)
    text = page.render(session=session, Role=Role, path=request.path, **values)
    return web.Response(text=text, content_type="text/html", status=code)


def refuse(request: web.Request, status: int, why: str) -> web.Response:
    return render(request, "refused.html", code=status, why=why)


def is_https(request: web.Request) -> bool:
    """Whether the browser reached the console over TLS: directly, or through the trusted
    proxy (its ``X-Forwarded-Proto``). Cookies are then sent only over TLS."""
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return forwarded == "https" and console_of(request).proxy.trusts(request.remote)


def see_other(location: str) -> web.Response:
    """A redirect as a plain response, so the security headers go on it too."""
    return web.Response(status=303, headers={"Location": location})


def needs(role: Role) -> Callable[[Handler], Handler]:
    """A page for ``role`` and above; others get 403, whatever they send."""

    def wrap(handler: Handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            if session_of(request).role < role:
                return refuse(request, 403, f"this needs the {role.label} role")
            return await handler(request)

        return checked

    return wrap


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


@web.middleware
async def who(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sets ``request["session"]``, or sends the visitor to the login page."""
    if request.path.startswith(PUBLIC_PATHS):
        return await handler(request)
    console = console_of(request)
    proxied = _proxied(request, console)
    if isinstance(proxied, web.Response):
        return proxied
    session = proxied or console.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        if request.method != "GET":
            return web.Response(status=403, text="not signed in")
        return see_other("/login")
    request[SESSION] = session
    return await handler(request)


def _proxied(request: web.Request, console: Console) -> Session | web.Response | None:
    header = console.proxy.header
    name = None if header is None else request.headers.get(header)
    if name is None:
        return None
    if not console.proxy.trusts(request.remote):
        log.warning("console: %s header from untrusted address %s refused", header, request.remote)
        return web.Response(status=403, text="not from a trusted proxy")
    try:
        user = load_users(console.settings.console.users_file).get(name)
    except UsersError as exc:
        return web.Response(status=503, text=str(exc))
    if user is None:
        return web.Response(status=403, text="no such console user")
    return Session(
        token="", user=user.name, role=user.role, csrf=console.proxy_csrf(user.name),
        expires_at=float("inf"),
    )


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing request carries the session's token in its form."""
    if request.method in ("GET", "HEAD") or request.path.startswith(PUBLIC_PATHS):
        return await handler(request)
    form = await request.post()
    given = form.get("csrf")
    if not isinstance(given, str) or not hmac.compare_digest(given, session_of(request).csrf):
        return refuse(request, 403, "the form's CSRF token is missing or wrong: reload the page")
    return await handler(request)


async def _search_pool(app: web.Application) -> AsyncIterator[None]:
    console = app[CONSOLE]
    console.search_db = await MySqlSession.open(
        console.settings.ledger_db, on_query=ignore_query, max_connections=SEARCH_CONNECTIONS
    )
    try:
        yield
    finally:
        await console.search_db.close()


def make_app(console: Console) -> web.Application:
    # Imported here: the pages import this module's helpers.
    from hub.console import actions, bulk_replay, login, pages

    app = web.Application(middlewares=[headers, who, csrf])
    app[CONSOLE] = console
    app.cleanup_ctx.append(_search_pool)
    login.add_routes(app)
    pages.add_routes(app)
    actions.add_routes(app)
    bulk_replay.add_routes(app)
    app.router.add_static("/static/", HERE / "static", append_version=False)
    return app


async def serve(console: Console, host: str, port: int) -> None:
    """Run until cancelled (Ctrl-C)."""
    runner = web.AppRunner(make_app(console), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("hub console on http://%s:%d", host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
