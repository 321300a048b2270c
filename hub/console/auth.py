"""Who is asking: password sessions, a trusted proxy's header, and the failed-login limiter.

Sessions live in this process (one console process; a restart signs everyone out): a random
token in an HttpOnly, SameSite=Strict cookie, with its own CSRF token, ending
``session_ttl_s`` after the login. Behind a trusted reverse proxy the user is whoever its header
names, on requests from the proxy's addresses only; the role always comes from the users file.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.console.users import Role, User
from hub.settings import ConsoleSettings

log = logging.getLogger(__name__)

Clock = Callable[[], float]  # monotonic seconds; tests shorten time by moving their own


@dataclass(frozen=True, kw_only=True)
class Session:
    token: str
    user: str
    role: Role
    csrf: str
    expires_at: float  # on the sessions' clock


@dataclass(kw_only=True)
class Sessions:
    ttl_s: float
    clock: Clock = time.monotonic
    _by_token: dict[str, Session] = field(default_factory=dict)

    def open(self, user: User) -> Session:
        self._forget_expired()
        session = Session(
            token=secrets.token_urlsafe(32), user=user.name, role=user.role,
            csrf=secrets.token_urlsafe(32), expires_at=self.clock() + self.ttl_s,
        )
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        session = None if token is None else self._by_token.get(token)
        if session is None:
            return None
        if session.expires_at <= self.clock():
            del self._by_token[session.token]
            return None
        return session

    def close(self, token: str | None) -> None:
        if token is not None:
            self._by_token.pop(token, None)

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._by_token.items() if s.expires_at <= now]:
            del self._by_token[token]


@dataclass(kw_only=True)
class LoginLimiter:
    """At most ``failures`` failed logins per (user name, address) within ``lockout_s``."""

    failures: int
    lockout_s: float
    clock: Clock = time.monotonic
    _seen: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def refused(self, name: str, address: str) -> bool:
        return len(self._recent((name, address))) >= self.failures

    def failed(self, name: str, address: str) -> None:
        recent = self._recent((name, address))
        recent.append(self.clock())
        self._seen[(name, address)] = recent
        # The password is never logged; the name is what the person typed, cut short.
        log.warning(
            "console login failed for user %r from %s (%d within %.0f s)",
            name[:64], address, len(recent), self.lockout_s,
        )

    def succeeded(self, name: str, address: str) -> None:
        self._seen.pop((name, address), None)

    def _recent(self, key: tuple[str, str]) -> list[float]:
        since = self.clock() - self.lockout_s
        return [moment for moment in self._seen.get(key, []) if moment > since]


@dataclass(frozen=True, kw_only=True)
class ProxyTrust:
    """A reverse proxy whose header names the user, believed only from its own addresses."""

    header: str | None
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def of(cls, settings: ConsoleSettings) -> ProxyTrust:
        networks = tuple(
            ipaddress.ip_network(item, strict=False) for item in settings.trusted_proxies
        )
        return cls(header=settings.proxy_header, networks=networks)

    def trusts(self, address: str | None) -> bool:
        if address is None:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)
