"""The console under test: an aiohttp test server over a real hub database and broker, users
of each role in a users file, and a client that signs in through the login form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from hub.console import Console, Role, add_user, make_app
from hub.settings import ConsoleSettings, HubSettings

PASSWORD = "correct horse battery"
USERS = {"vera": Role.VIEWER, "otto": Role.OPERATOR, "ada": Role.ADMIN}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def write_users(path: Path) -> Path:
    for name, role in USERS.items():
        add_user(path, name, role, PASSWORD)
    return path


def console_settings(base: HubSettings, users_file: Path, **changes: object) -> HubSettings:
    console = ConsoleSettings(users_file=users_file, **changes)  # type: ignore[arg-type]
    return base.model_copy(update={"console": console})


@dataclass(frozen=True, kw_only=True)
class Browser:
    """A test client with its cookies, and the CSRF token of the last page it read."""

    session: aiohttp.ClientSession
    server: TestServer

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def get(self, path: str, **given: object) -> aiohttp.ClientResponse:
        return await self.session.get(self.url(path), allow_redirects=False, **given)  # type: ignore[arg-type]

    async def post(self, path: str, **given: object) -> aiohttp.ClientResponse:
        return await self.session.post(self.url(path), allow_redirects=False, **given)  # type: ignore[arg-type]

    async def page(self, path: str, **given: object) -> str:
        response = await self.get(path, **given)
        assert response.status == 200, (path, response.status, await response.text())
        return await response.text()

    async def csrf(self, path: str = "/intents") -> str:
        found = CSRF.search(await self.page(path))
        assert found is not None, f"no CSRF token on {path}"
        return found.group(1)

    async def sign_in(self, user: str, password: str = PASSWORD) -> int:
        token = CSRF.search(await self.page("/login"))
        assert token is not None
        response = await self.post(
            "/login", data={"csrf": token.group(1), "user": user, "password": password}
        )
        return response.status


@asynccontextmanager
async def serving(console: Console) -> AsyncIterator[TestServer]:
    server = TestServer(make_app(console), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def browser(server: TestServer) -> AsyncIterator[Browser]:
    # Its own cookie jar (unsafe: the server is an IP address), as one person's browser.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Browser(session=session, server=server)
