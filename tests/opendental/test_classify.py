"""Every aiohttp failure and every kind of Open Dental reply maps to exactly one hub error."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from hub.errors import AuthError, HubError, PermanentError, ThrottledError, TransientError
from hub.opendental.classify import (
    TRANSPORT_ERRORS,
    classify_status,
    classify_transport,
    error_message,
    parse_retry_after,
)
from hub.opendental.constants import MAX_MESSAGE_CHARS

NOW = datetime(2025, 11, 25, 12, 0, 0, tzinfo=UTC)

# (hub class, maybe_applied) for every ClientError class aiohttp exports. A class aiohttp adds
# later fails the test below until someone decides where it belongs.
AIOHTTP_EXPECTED: dict[str, tuple[type[HubError], bool | None]] = {
    # Nothing reached Open Dental: send again as is.
    "ConnectionTimeoutError": (TransientError, False),
    "ClientConnectorError": (TransientError, False),
    "ClientConnectorDNSError": (TransientError, False),
    "ClientConnectorSSLError": (TransientError, False),
    "ClientConnectorCertificateError": (TransientError, False),
    "ClientSSLError": (TransientError, False),
    "ClientProxyConnectionError": (TransientError, False),
    "ServerFingerprintMismatch": (TransientError, False),
    # The request was on its way or sent: it may have been processed.
    "ClientError": (TransientError, True),
    "ClientConnectionError": (TransientError, True),
    "ClientConnectionResetError": (TransientError, True),
    "ClientOSError": (TransientError, True),
    "ServerConnectionError": (TransientError, True),
    "ServerDisconnectedError": (TransientError, True),
    "ServerTimeoutError": (TransientError, True),
    "SocketTimeoutError": (TransientError, True),
    "ClientPayloadError": (TransientError, True),
    "ClientResponseError": (TransientError, True),
    "ClientHttpProxyError": (TransientError, True),
    "ContentTypeError": (TransientError, True),
    "WSServerHandshakeError": (TransientError, True),
    "UploadAbortedError": (TransientError, True),
    # Sending it again would fail the same way.
    "InvalidURL": (PermanentError, None),
    "InvalidUrlClientError": (PermanentError, None),
    "InvalidUrlRedirectClientError": (PermanentError, None),
    "NonHttpUrlClientError": (PermanentError, None),
    "NonHttpUrlRedirectClientError": (PermanentError, None),
    "RedirectClientError": (PermanentError, None),
    "TooManyRedirects": (PermanentError, None),
}
SECRET_URL = URL("http://127.0.0.1:1/api/v1/patients?LName=Secret")
CONNECTION = aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 1, False, True, None, None, None)
REQUEST_INFO = aiohttp.RequestInfo(SECRET_URL, "POST", CIMultiDictProxy(CIMultiDict()))


def aiohttp_client_error_classes() -> list[type[aiohttp.ClientError]]:
    exported = (getattr(aiohttp, name) for name in aiohttp.__all__)
    return [
        obj for obj in exported if isinstance(obj, type) and issubclass(obj, aiohttp.ClientError)
    ]


def instance_of(cls: type[aiohttp.ClientError]) -> aiohttp.ClientError:
    if issubclass(cls, aiohttp.ClientResponseError):
        return cls(REQUEST_INFO, (), status=502, message="Bad Gateway")
    if issubclass(cls, aiohttp.ClientConnectorError):
        return cls(CONNECTION, OSError(111, "Connection refused"))
    if issubclass(cls, aiohttp.ServerFingerprintMismatch):
        return cls(b"expected", b"got", "127.0.0.1", 1)
    if issubclass(cls, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return cls(SECRET_URL)
    return cls("boom")


def test_every_aiohttp_client_error_class_is_listed() -> None:
    # Given every ClientError class aiohttp exports
    exported = {cls.__name__ for cls in aiohttp_client_error_classes()}
    # Then each one has a decided place in the table, and the table lists nothing else
    assert exported == set(AIOHTTP_EXPECTED)


@pytest.mark.parametrize("cls", aiohttp_client_error_classes(), ids=lambda cls: cls.__name__)
def test_every_aiohttp_error_maps_to_exactly_one_hub_class(cls: type[aiohttp.ClientError]) -> None:
    # Given an instance of an aiohttp failure
    exc = instance_of(cls)
    expected_class, expected_maybe_applied = AIOHTTP_EXPECTED[cls.__name__]
    # When it is classified
    error = classify_transport(exc)
    # Then it becomes exactly the expected hub class, with the expected maybe-applied flag
    assert type(error) is expected_class
    if expected_maybe_applied is not None:
        assert isinstance(error, TransientError)
        assert error.maybe_applied is expected_maybe_applied
    # And the client's boundary catches it, so no aiohttp exception leaks past the client
    assert isinstance(exc, TRANSPORT_ERRORS)
    # And the message is the class name only (aiohttp messages can hold URLs with filters)
    assert str(error) == cls.__name__


def test_a_runtime_error_is_never_transient() -> None:
    # Given a plain RuntimeError (a bug, not an outage), When classified, Then it is permanent
    assert type(classify_transport(RuntimeError("bug"))) is PermanentError


# (status, Open Dental message, hub class or None for success, maybe_applied when transient)
STATUS_CASES: list[tuple[int, str, type[HubError] | None, bool | None]] = [
    (200, "", None, None),
    (201, "", None, None),
    # Validation and malformed requests: permanent.
    (400, "PatNum is required.", PermanentError, None),
    (400, "AdjAmt must be negative for this AdjType.", PermanentError, None),
    (400, "DateCreated format must be yyyy-MM-dd HH:mm:ss.", PermanentError, None),
    (400, "AptDateTime is invalid.", PermanentError, None),
    (400, "claimprocs DELETE  is not a valid method.", PermanentError, None),
    (400, "Content-Type must be application/json.", PermanentError, None),
    (400, "Deleted patients may not be changed.", PermanentError, None),
    (400, "Appointment must be Scheduled to be broken.", PermanentError, None),
    # The office cannot be reached right now: transient, and nothing reached the office.
    (400, "eConnector is not running. Start the eConnector.", TransientError, False),
    (400, "Two eConnectors are running with the same registration key.", TransientError, False),
    (400, "The office is unreachable.", TransientError, False),
    (400, "Could not reach the office's server.", TransientError, False),
    (400, "Unable to connect to the office.", TransientError, False),
    (400, "A network error occurred while contacting the office.", TransientError, False),
    (400, "The request to the office timed out.", TransientError, False),
    (400, "Timeout waiting for the office.", TransientError, False),
    (400, "This method requires Open Dental version 23.3.7 or later.", TransientError, False),
    (400, "The office's version is too old for this method.", TransientError, False),
    (400, "Update Open Dental to a newer version to use this method.", TransientError, False),
    # Keys and permissions: the lane pauses.
    (401, "Invalid developer or customer key.", AuthError, None),
    (401, "This customer key does not have permission for ApiPatients.", AuthError, None),
    # Everything else a client sent wrong, or that is gone: permanent.
    (403, "Forbidden", PermanentError, None),
    (404, "notaresource is not a valid resource.", PermanentError, None),
    (404, "Patient not found.", PermanentError, None),
    (405, "Method Not Allowed", PermanentError, None),
    (409, "Conflict", PermanentError, None),
    (410, "This resource has been deprecated.", PermanentError, None),
    (422, "Unprocessable Entity", PermanentError, None),
    (302, "Found", PermanentError, None),
    # Server side: transient, and the server had the request, so it may have been applied.
    (500, "An error has occurred.", TransientError, True),
    (502, "Bad Gateway", TransientError, True),
    (503, "Service Unavailable", TransientError, True),
    (504, "Gateway Time-out", TransientError, True),
]


@pytest.mark.parametrize(("status", "message", "expected", "maybe_applied"), STATUS_CASES)
def test_status_and_message_map_to_one_hub_class(
    status: int, message: str, expected: type[HubError] | None, maybe_applied: bool | None
) -> None:
    # Given an Open Dental reply's status and message, When classified
    error = classify_status(status, message)
    # Then it is success or exactly the expected class, carrying the status and the message
    if expected is None:
        assert error is None
        return
    assert type(error) is expected
    assert str(error) == message
    assert getattr(error, "status", None) == status
    if maybe_applied is not None:
        assert isinstance(error, TransientError)
        assert error.maybe_applied is maybe_applied


def test_throttle_reply_is_throttled_with_its_retry_after() -> None:
    # Given a 429 that says to come back in 3 s, When classified
    error = classify_status(429, "Too many requests.", retry_after_s=3.0)
    # Then it is a ThrottledError (a TransientError) carrying the delay, not maybe-applied
    assert type(error) is ThrottledError
    assert error.retry_after_s == 3.0
    assert error.status == 429
    assert error.maybe_applied is False


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('"PatNum is required."', "PatNum is required."),  # JSON-quoted, as Open Dental sends
        ("PatNum is required.", "PatNum is required."),  # bare
        ('  "Patient not found."\r\n', "Patient not found."),
        ('"Say \\"hi\\"."', 'Say "hi".'),  # escapes inside the quotes
        ('{"Message": "x"}', '{"Message": "x"}'),  # not a string: kept as text
        ("", "Not Found"),  # no body: the reason phrase
        ('""', "Not Found"),
    ],
)
def test_error_message_is_unquoted(body: str, expected: str) -> None:
    # Given an error body, When its message is read, Then it is Open Dental's text, unquoted
    assert error_message(body, fallback="Not Found") == expected


def test_error_message_is_capped() -> None:
    # Given a huge HTML error page from a proxy, When its message is read, Then it is capped
    assert len(error_message("<html>" + "x" * 10_000, fallback="")) == MAX_MESSAGE_CHARS


@pytest.mark.parametrize(
    ("header", "expected_s"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("Tue, 25 Nov 2025 12:00:30 GMT", 30.0),
        ("Tue, 25 Nov 2025 11:59:00 GMT", 0.0),  # already past: no wait, never negative
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_http_date(
    header: str | None, expected_s: float | None
) -> None:
    # Given a Retry-After header, When parsed at a known instant, Then it is seconds from now
    assert parse_retry_after(header, now=NOW) == expected_s
