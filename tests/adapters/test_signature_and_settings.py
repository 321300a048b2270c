"""The Standard Webhooks signature, timestamp and headers, and where the adapter's secret comes
from."""

from __future__ import annotations

from base64 import b64decode
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.forms import FormsConfigError, FormsSettings, secret_key, sign
from adapters.forms.webhook import (
    Refusal,
    WebhookHeaders,
    read_headers,
    signature_matches,
    timestamp_refusal,
)

# The reference library's own test vector (standard-webhooks, libraries/python, test_sign_function)
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP = "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330"
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
KEY = secret_key(SPEC_SECRET)
OTHER_KEY = secret_key("whsec_" + "QW5vdGhlciBzZWNyZXQgb2YgdGhlIHNlbmRlciEhIQ==")


def headers(signatures: str, webhook_id: str = SPEC_ID) -> WebhookHeaders:
    return WebhookHeaders(webhook_id=webhook_id, timestamp=SPEC_TIMESTAMP, signatures=signatures)


def test_a_signature_is_the_specs_over_id_timestamp_and_body() -> None:
    # Given the reference library's secret, id, timestamp and body
    # When they are signed, Then the signature is the one the reference library computes
    assert sign(KEY, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    # And it matches those three
    assert signature_matches(KEY, headers(SPEC_SIGNATURE), SPEC_BODY)


def test_any_one_of_several_signatures_may_match() -> None:
    # Given a sender rotating its secret, signing with the old and the new one, beside a v1a
    # (asymmetric) signature the adapter does not check
    other = sign(OTHER_KEY, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    v1a = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM=="

    # When the header lists them in either order, Then it matches the adapter's key
    assert signature_matches(KEY, headers(f"{v1a} {other} {SPEC_SIGNATURE}"), SPEC_BODY)
    assert signature_matches(KEY, headers(f"{SPEC_SIGNATURE} {other}"), SPEC_BODY)


@pytest.mark.parametrize(
    ("signatures", "webhook_id", "body"),
    [
        (SPEC_SIGNATURE, SPEC_ID, SPEC_BODY + b" "),
        (SPEC_SIGNATURE, "msg_other", SPEC_BODY),
        (sign(OTHER_KEY, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY), SPEC_ID, SPEC_BODY),
        (SPEC_SIGNATURE.removeprefix("v1,"), SPEC_ID, SPEC_BODY),
        ("v1a," + SPEC_SIGNATURE.removeprefix("v1,"), SPEC_ID, SPEC_BODY),
        (SPEC_SIGNATURE.lower(), SPEC_ID, SPEC_BODY),
        ("v1,caf\u00e9", SPEC_ID, SPEC_BODY),
        ("v1,zz", SPEC_ID, SPEC_BODY),
        ("", SPEC_ID, SPEC_BODY),
    ],
    ids=[
        "other-body", "other-id", "other-key", "no-scheme", "other-scheme", "case-changed",
        "not-ascii", "not-base64", "empty",
    ],
)  # fmt: skip
def test_anything_else_does_not_match(signatures: str, webhook_id: str, body: bytes) -> None:
    # Given a header that is not a v1 signature of this id, timestamp and body with this key
    # When it is checked, Then it does not match
    assert not signature_matches(KEY, headers(signatures, webhook_id), body)


def test_the_timestamp_may_be_off_by_the_tolerance_either_way_and_no_more() -> None:
    # Given a request stamped at 1,000,000 and a 300 s tolerance
    def refused(now_s: float) -> Refusal | None:
        return timestamp_refusal(1_000_000, now_s=now_s, tolerance_s=300)

    # When the receiver's clock is 300 s either side, Then it is taken
    assert refused(1_000_300) is None and refused(999_700) is None
    # When it is further, Then it is 401, saying why
    for now_s in (1_000_300.5, 999_699):
        refusal = refused(now_s)
        assert refusal is not None and refusal.status == 401
        assert refusal.error == "timestamp_out_of_tolerance"
        assert "webhook-timestamp" in refusal.message


GOOD = {"webhook-id": SPEC_ID, "webhook-timestamp": SPEC_TIMESTAMP, "webhook-signature": "v1,x"}


@pytest.mark.parametrize(
    ("changes", "status", "header"),
    [
        ({"webhook-id": ""}, 401, "webhook-id"),
        ({"webhook-timestamp": " "}, 401, "webhook-timestamp"),
        ({"webhook-signature": ""}, 401, "webhook-signature"),
        ({"webhook-id": "msg.1674087231"}, 400, "webhook-id"),
        ({"webhook-id": "msg 2"}, 400, "webhook-id"),
        ({"webhook-id": "m" * 257}, 400, "webhook-id"),
        ({"webhook-timestamp": "1674087231.5"}, 400, "webhook-timestamp"),
        ({"webhook-timestamp": "1_674_087_231"}, 400, "webhook-timestamp"),
        ({"webhook-timestamp": "\u0661\u0666\u0667"}, 400, "webhook-timestamp"),
        ({"webhook-timestamp": "-1"}, 400, "webhook-timestamp"),
    ],
    ids=[
        "no-id", "no-timestamp", "no-signature", "dot-in-id", "space-in-id", "long-id",
        "fractional-timestamp", "underscored-timestamp", "arabic-digits", "negative-timestamp",
    ],
)  # fmt: skip
def test_a_missing_or_malformed_header_is_refused_naming_it(
    changes: dict[str, str], status: int, header: str
) -> None:
    # Given the three headers with one missing or malformed
    sent = {k: v for k, v in (GOOD | changes).items() if v}

    # When they are read, Then the refusal names that header, without its value
    refusal = read_headers(sent)
    assert isinstance(refusal, Refusal)
    assert (refusal.status, refusal.message.split(" ")[0]) == (status, header)
    assert not [value for value in changes.values() if value.strip() and value in refusal.message]


def test_well_formed_headers_are_read_as_sent() -> None:
    # Given the three headers, padded with spaces
    # When they are read, Then they are the values, the timestamp kept verbatim for signing
    read = read_headers({k: f" {v} " for k, v in GOOD.items()})
    assert read == WebhookHeaders(webhook_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, signatures=" v1,x ")
    assert isinstance(read, WebhookHeaders) and read.timestamp_s == 1614265330


def settings(**values: object) -> FormsSettings:
    # Not from the environment: each test states every setting it relies on.
    return FormsSettings.model_validate(values)


def test_the_secret_comes_from_the_variable_or_a_file(tmp_path: Path) -> None:
    # Given the secret once in a variable and once in a file ending in a newline
    file = tmp_path / "secret"
    file.write_text(SPEC_SECRET + "\n", encoding="utf-8")

    # When each is read, Then each gives the key: the bytes of the base64 after whsec_
    assert settings(secret=SPEC_SECRET).webhook_secret() == b64decode(SPEC_SECRET[6:])
    assert settings(secret_file=file).webhook_secret() == KEY


TOO_SHORT = "whsec_" + "c2hvcnQtc2VjcmV0LTIz"  # 15 bytes
TOO_LONG = "whsec_" + "QUFB" * 22  # 66 bytes


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({}, "exactly one of HUB_FORMS_SECRET and HUB_FORMS_SECRET_FILE"),
        ({"secret": TOO_SHORT, "secret_file": "x"}, "exactly one of"),
        ({"secret": "a-raw-secret-of-old-0123456789"}, "HUB_FORMS_SECRET: .* start with whsec_"),
        ({"secret": "whsec_not base64!"}, "HUB_FORMS_SECRET: .* whsec_ then base64"),
        ({"secret": "whsec_caf\u00e9"}, "HUB_FORMS_SECRET: .* whsec_ then base64"),
        ({"secret": TOO_SHORT}, "24 to 64 bytes \\(it holds 15\\)"),
        ({"secret": TOO_LONG}, "24 to 64 bytes \\(it holds 66\\)"),
        ({"secret_file": "/nonexistent/secret"}, "cannot read HUB_FORMS_SECRET_FILE"),
    ],
    ids=[
        "neither", "both", "no-prefix", "not-base64", "not-ascii", "too-short", "too-long",
        "unreadable-file",
    ],
)  # fmt: skip
def test_a_missing_or_unusable_secret_is_a_clear_error(values: dict[str, str], says: str) -> None:
    # Given settings without one usable secret
    # When the secret is asked for, Then the error says what to fix, without the secret
    with pytest.raises(FormsConfigError, match=says) as failed:
        settings(**values).webhook_secret()
    secrets = [v for v in values.values() if v.startswith(("whsec_", "a-raw"))]
    assert not [s for s in secrets if s.removeprefix("whsec_") in str(failed.value)]


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
