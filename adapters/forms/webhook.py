"""Standard Webhooks 1.0 (https://www.standardwebhooks.com), its symmetric scheme: what the forms
webhook requires of a request before it reads the form.

    webhook-id: msg_2KWPBgLlAfxdpx2AI54pPJ85f4W    the event's id, the same on every resend
    webhook-timestamp: 1674087231                  this attempt's Unix time, in seconds
    webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=   one or more, by spaces

A ``v1`` signature is the base64 of HMAC-SHA256(key, ``<id>.<timestamp>.<raw body>``), the key
being the bytes of the shared secret ``whsec_<base64>``. One matching ``v1`` signature is enough
(a sender rotating its secret signs with the old and the new one); other schemes are skipped.
A refusal names the header at fault and never echoes a value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64  # the spec's range for a symmetric secret
_SCHEME = "v1,"
# Printable ASCII without spaces or dots: a dot in the id would make "<id>.<timestamp>.<body>"
# ambiguous (the spec asks for none), and such an id is safe to log.
_ID = re.compile(r"[!-\-/-~]{1,256}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would take "1_0" and "١٠"


@dataclass(frozen=True, kw_only=True)
class WebhookHeaders:
    webhook_id: str
    timestamp: str  # as received: the signed content holds it verbatim
    signatures: str

    @property
    def timestamp_s(self) -> int:
        return int(self.timestamp)


@dataclass(frozen=True, kw_only=True)
class Refusal:
    """Why a request is refused: its HTTP status, a code, and a message naming the header."""

    status: int
    error: str
    message: str


def read_headers(headers: Mapping[str, str]) -> WebhookHeaders | Refusal:
    """The three headers, present and well-formed, or the refusal naming the first that is not."""
    for name in (WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE):
        if not headers.get(name, "").strip():
            return Refusal(status=401, error="missing_header", message=f"{name} is missing")
    webhook_id = headers[WEBHOOK_ID].strip()
    timestamp = headers[WEBHOOK_TIMESTAMP].strip()
    if not _ID.fullmatch(webhook_id):
        return _malformed(WEBHOOK_ID, "1 to 256 printable ASCII characters, no spaces or dots")
    if not _TIMESTAMP.fullmatch(timestamp):
        return _malformed(WEBHOOK_TIMESTAMP, "an integer, Unix time in seconds")
    return WebhookHeaders(
        webhook_id=webhook_id, timestamp=timestamp, signatures=headers[WEBHOOK_SIGNATURE]
    )


def _malformed(header: str, expected: str) -> Refusal:
    return Refusal(status=400, error="malformed_header", message=f"{header} must be {expected}")


def timestamp_refusal(timestamp_s: int, *, now_s: float, tolerance_s: int) -> Refusal | None:
    """A refusal when the timestamp is more than ``tolerance_s`` from ``now_s``, either way."""
    if abs(now_s - timestamp_s) <= tolerance_s:
        return None
    return Refusal(
        status=401,
        error="timestamp_out_of_tolerance",
        message=(
            f"{WEBHOOK_TIMESTAMP} is more than {tolerance_s} s from the receiver's clock: "
            "sign each attempt with the current time"
        ),
    )


def sign(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    """One ``v1,<base64>`` signature, as a sender puts it in ``webhook-signature``."""
    return _SCHEME + base64.b64encode(_digest(key, webhook_id, timestamp, body)).decode("ascii")


def signature_matches(key: bytes, headers: WebhookHeaders, body: bytes) -> bool:
    """Whether any ``v1`` signature of the header signs id, timestamp and body with ``key``;
    each is compared in constant time."""
    expected = _digest(key, headers.webhook_id, headers.timestamp, body)
    parts = headers.signatures.split(" ")
    given = [_decoded(part.removeprefix(_SCHEME)) for part in parts if part.startswith(_SCHEME)]
    found = [hmac.compare_digest(mac, expected) for mac in given if mac is not None]
    return any(found)


def _decoded(signature: str) -> bytes | None:
    try:
        return base64.b64decode(signature, validate=True)
    except ValueError:  # not base64, or not ASCII (binascii.Error is a ValueError)
        return None


def _digest(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> bytes:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return hmac.new(key, content, hashlib.sha256).digest()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ``ValueError`` says what is wrong with it,
    never quoting it."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"the webhook secret must start with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:  # not base64, or not ASCII
        raise ValueError(f"the webhook secret must be {SECRET_PREFIX} then base64") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(
            f"the webhook secret must hold {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes "
            f"(it holds {len(key)})"
        )
    return key
