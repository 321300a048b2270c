"""Open Dental replies and HTTP client failures, classified by what the writer does next.

Pure functions: the client calls them once, at its boundary. Open Dental's errors are bare
message strings, often JSON-quoted; the status alone does not decide, because a 400 can be a
validation error (permanent) or an office that cannot be reached right now (transient)
(opendental-api.md §3, §9).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime

import aiohttp
from yarl import URL

from hub.errors import AuthError, HubError, PermanentError, ThrottledError, TransientError
from hub.opendental.constants import MAX_MESSAGE_CHARS
from hub.tls import handshake_failure, refused

# A 400 whose message says the office cannot be reached right now. Open Dental's exact wording
# is not documented and changes between versions, so each pattern is loose on purpose.
TRANSIENT_400_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"econnector",  # not running, or two eConnectors sharing one registration
        r"unreachable|(?:could not|cannot|can't|unable to|failed to) (?:be )?(?:reach|connect)",
        r"\bnetwork\b",
        r"\btime[ -]?out\b|\btimed out\b",
        r"\bversion\b.*\b(?:too old|older|newer|later|higher|update|upgrade|requires?|required)\b",
        r"\b(?:update|upgrade)\b.*\bversion\b",
    )
)

# Failures before anything reached Open Dental: safe to send again as is. Checked first, as a
# connect timeout is also a timeout, and a refused connect an OSError.
_NOT_SENT: tuple[type[aiohttp.ClientError], ...] = (
    aiohttp.ConnectionTimeoutError,  # the wait for a pooled connection, or the connect
    aiohttp.ClientConnectorError,  # refused, unresolvable, TLS or proxy set-up
    aiohttp.ServerFingerprintMismatch,  # the TLS handshake, before the request
)
# A request that cannot be built or a redirect the client never follows: sending it again would
# fail the same way.
_NOT_SENDABLE: tuple[type[aiohttp.ClientError], ...] = (
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
    aiohttp.RedirectClientError,
    aiohttp.TooManyRedirects,
)
# Every exception the HTTP client raises on purpose; the client's boundary catches these.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (aiohttp.ClientError,)


def error_message(body: str, *, fallback: str) -> str:
    """Open Dental's message from an error body: unquoted, stripped and capped."""
    text = body.strip()
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    if isinstance(decoded, str):
        text = decoded.strip()
    return (text or fallback)[:MAX_MESSAGE_CHARS]


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from ``now`` given by a Retry-After header (delta-seconds or an HTTP-date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT; a zoneless parse means it said so
        return None
    return max(0.0, (when - now).total_seconds())


def is_transient_400(message: str) -> bool:
    return any(pattern.search(message) for pattern in TRANSIENT_400_PATTERNS)


def classify_status(
    status: int, message: str, *, retry_after_s: float | None = None
) -> HubError | None:
    """The hub error for an HTTP reply, or None when it succeeded (2xx)."""
    if 200 <= status < 300:
        return None
    if status == 401:
        return AuthError(message, status=status)
    if status == 429:
        return ThrottledError(message, status=status, retry_after_s=retry_after_s)
    if status == 400 and is_transient_400(message):
        return TransientError(message, status=status)
    if 500 <= status < 600:
        # The server had the whole request; what it did before failing is unknown.
        return TransientError(message, status=status, maybe_applied=True)
    return PermanentError(message, status=status)


def classify_transport(exc: Exception, *, office_id: str = "", base_url: str = "") -> HubError:
    """The hub error for an exception raised by the HTTP client (or any other, as permanent);
    ``office_id`` and ``base_url`` name the link in a failed TLS handshake's message."""
    message = type(exc).__name__  # never the exception's text: it can hold a URL with filters
    failure = handshake_failure(exc)
    if failure is not None:  # before the request: nothing was sent; fixed, the next try works
        url = URL(base_url)
        tls = refused(f"office {office_id}'s Open Dental API", f"{url.host}:{url.port}", failure)
        return TransientError(str(tls), maybe_applied=False)
    if isinstance(exc, _NOT_SENT):
        return TransientError(message, maybe_applied=False)
    if isinstance(exc, _NOT_SENDABLE) or not isinstance(exc, TRANSPORT_ERRORS):
        return PermanentError(message)
    # Anything once the request was on its way (a read timeout, a reset, a closed connection, a
    # reply that is not HTTP, a body cut short) may have been processed; so may a write failure,
    # since how much of the body arrived is unknown.
    return TransientError(message, maybe_applied=True)
