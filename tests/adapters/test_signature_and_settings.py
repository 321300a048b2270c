"""The webhook signature and where the adapter's secret comes from."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.forms import FormsConfigError, FormsSettings, signature, signature_matches

SECRET = b"a-secret-of-twenty-bytes"
BODY = b'{"submission_id": "s-1"}'


def test_the_senders_signature_matches_in_either_case() -> None:
    # Given the header a sender computes over the raw body
    header = signature(SECRET, BODY)

    # When it is checked as sent, and with the hex in capitals, Then it matches
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert signature_matches(SECRET, BODY, header)
    assert signature_matches(SECRET, BODY, "sha256=" + header.removeprefix("sha256=").upper())


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        signature(b"another-secret-entirely", BODY),
        signature(SECRET, BODY + b" "),
        signature(SECRET, BODY).removeprefix("sha256="),
        "sha256=caf\u00e9",
    ],
    ids=["missing", "empty", "other-secret", "other-body", "no-scheme", "not-ascii"],
)
def test_anything_else_does_not_match(header: str | None) -> None:
    # Given a header that is not the body's signature with this secret
    # When it is checked, Then it does not match
    assert not signature_matches(SECRET, BODY, header)


def settings(**values: object) -> FormsSettings:
    # Not from the environment: each test states every setting it relies on.
    return FormsSettings.model_validate(values)


def test_the_secret_comes_from_the_variable_or_a_file(tmp_path: Path) -> None:
    # Given the secret once in a variable and once in a file ending in a newline
    file = tmp_path / "secret"
    file.write_text("from-a-file-0123456789\n", encoding="utf-8")

    # When each is read, Then each gives the secret itself
    assert settings(secret="from-a-variable-0123456").webhook_secret() == b"from-a-variable-0123456"
    assert settings(secret_file=file).webhook_secret() == b"from-a-file-0123456789"


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({}, "exactly one of HUB_FORMS_SECRET and HUB_FORMS_SECRET_FILE"),
        ({"secret": "short-9", "secret_file": "x"}, "exactly one of"),
        ({"secret": "short-9"}, "16 characters or more"),
        ({"secret_file": "/nonexistent/secret"}, "cannot read HUB_FORMS_SECRET_FILE"),
    ],
    ids=["neither", "both", "too-short", "unreadable-file"],
)
def test_a_missing_or_unusable_secret_is_a_clear_error(values: dict[str, str], says: str) -> None:
    # Given settings without one usable secret
    # When the secret is asked for, Then the error says what to fix, without the secret
    with pytest.raises(FormsConfigError, match=says) as failed:
        settings(**values).webhook_secret()
    assert "short-9" not in str(failed.value)


def test_the_vendor_defaults_to_the_broker_users_name() -> None:
    # Given a broker URL with the vendor's login, with and without an explicit vendor
    url = SecretStr("amqp://formsco:pw-0123456789abcdef@broker:5672/")

    # When the vendor name is asked for, Then it is the URL's user unless set
    assert settings(broker_url=url).vendor_name() == "formsco"
    assert settings(broker_url=url, vendor="other").vendor_name() == "other"


def test_the_vendors_offices_come_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the offices of the vendor's agreements in HUB_FORMS_OFFICES, spaced loosely
    monkeypatch.setenv("HUB_FORMS_OFFICES", " office-1, office-7 ,")

    # When the settings are read from the environment
    read = FormsSettings(_env_file=None)

    # Then they are the offices themselves
    assert read.agreed_offices() == frozenset({"office-1", "office-7"})


def test_no_offices_is_a_clear_error() -> None:
    # Given settings without the vendor's offices
    # When they are asked for, Then the error names the variable to set
    with pytest.raises(FormsConfigError, match="set HUB_FORMS_OFFICES"):
        settings().agreed_offices()
