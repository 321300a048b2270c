"""``hub console user add``: the users file gets an argon2 hash, never the password, which
comes from a file or the terminal, never from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.console import Role, load_users
from hub.console.users import verify


def test_a_user_added_from_a_password_file_can_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = tmp_path / "users.toml"
    monkeypatch.setenv("HUB_CONSOLE__USERS_FILE", str(users))
    secret = tmp_path / "pw"
    secret.write_text("a long enough password\n")
    # When an admin is added with their password in a file
    done = CliRunner().invoke(
        app, ["console", "user", "add", "ada", "--role", "admin", "--password-file", str(secret)]
    )
    assert done.exit_code == 0, done.output
    # Then the file holds the role and a hash that the password matches, never the password
    found = load_users(users)
    assert found["ada"].role is Role.ADMIN and "a long enough" not in users.read_text()
    assert verify(found, "ada", "a long enough password") is not None
    assert verify(found, "ada", "a long enough passwort") is None
    # And a proxy-only user has a role and no password at all
    proxy = CliRunner().invoke(app, ["console", "user", "add", "bob", "--role", "viewer",
                                     "--proxy-only"])
    assert proxy.exit_code == 0 and load_users(users)["bob"].password_hash is None
    assert verify(load_users(users), "bob", "") is None


def test_a_password_is_never_an_argument_and_a_short_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_CONSOLE__USERS_FILE", str(tmp_path / "users.toml"))
    given = CliRunner().invoke(app, ["console", "user", "add", "eve", "--role", "admin",
                                     "--password", "a long enough password"])
    assert given.exit_code == 2  # no such option
    short = CliRunner().invoke(app, ["console", "user", "add", "eve", "--role", "admin"],
                               input="short\nshort\n")
    assert short.exit_code == 1 and "at least 12" in short.output
