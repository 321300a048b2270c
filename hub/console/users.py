"""The console's users: a TOML file of names, roles and argon2 password hashes.

    [users.alice]
    role = "operator"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

    [users.bob]            # signed in by a trusted reverse proxy: a role, no password
    role = "viewer"

``hub console user add`` writes it (mode 0600); the console reads it at every login and every
proxied request, so a change needs no restart. A password is only ever hashed here, never kept.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import HubError

NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MIN_PASSWORD_CHARS = 12
# A hash to verify against when the user is unknown, so that a wrong name costs as long as a
# wrong password (the name cannot be told from the time a refusal takes).
_HASHER = PasswordHasher()
_DECOY = _HASHER.hash("not a password of anyone")


class Role(IntEnum):
    """What a user may do; each role may do what the ones below it may."""

    VIEWER = 1  # reads; payload values never shown
    OPERATOR = 2  # replay, pause and resume offices, reveal a payload (audited)
    ADMIN = 3  # purge dead letters, pause and resume vendors

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise UsersError(f"unknown role {text!r}: viewer, operator or admin") from None


class UsersError(HubError):
    """The users file cannot be read or written, or a user is not acceptable."""


@dataclass(frozen=True, kw_only=True)
class User:
    name: str
    role: Role
    password_hash: str | None  # None: only a trusted proxy can sign this user in


def load_users(path: Path) -> dict[str, User]:
    """Every user of the file; an absent file has none."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsersError(f"{path}: cannot be read ({type(exc).__name__})") from exc
    entries = raw.get("users", {})
    if not isinstance(entries, dict):
        raise UsersError(f"{path}: [users] must be a table")
    return {name: _user(path, name, entry) for name, entry in entries.items()}


def _user(path: Path, name: str, entry: object) -> User:
    if not isinstance(entry, dict) or not NAME.match(name):
        raise UsersError(f"{path}: users.{name}: not a user (a name, role, password_hash)")
    password_hash = entry.get("password_hash")
    if password_hash is not None and not isinstance(password_hash, str):
        raise UsersError(f"{path}: users.{name}.password_hash: must be a string")
    return User(name=name, role=Role.parse(str(entry.get("role", ""))), password_hash=password_hash)


def verify(users: dict[str, User], name: str, password: str) -> User | None:
    """The user, if ``password`` is theirs; None otherwise (also for an unknown name)."""
    user = users.get(name)
    known = user.password_hash if user is not None else None
    try:
        _HASHER.verify(known or _DECOY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if known is not None else None


def add_user(path: Path, name: str, role: Role, password: str | None) -> bool:
    """Add or change ``name``; True when the user is new. ``password`` None: proxy-only."""
    if not NAME.match(name):
        raise UsersError(f"{name!r}: a user name is lower-case letters, digits and . _ @ -")
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        raise UsersError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    users = load_users(path)
    new = name not in users
    password_hash = None if password is None else _HASHER.hash(password)
    users[name] = User(name=name, role=role, password_hash=password_hash)
    _write(path, users)
    return new


def _write(path: Path, users: dict[str, User]) -> None:
    lines = ["# The hub console's users (hub console user add). Argon2 hashes only.", ""]
    for user in sorted(users.values(), key=lambda u: u.name):
        lines += [f'[users."{user.name}"]', f'role = "{user.role.label}"']
        if user.password_hash is not None:
            lines.append(f'password_hash = "{user.password_hash}"')
        lines.append("")
    fresh = path.with_name(path.name + ".new")
    # Written beside it with mode 0600, then renamed: never a half-written or readable file.
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
    os.replace(fresh, path)
