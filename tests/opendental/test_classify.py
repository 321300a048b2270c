"""Every httpx exception and every kind of Open Dental reply maps to exactly one hub error."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from hub.errors import AuthError, HubError, PermanentError, ThrottledError, TransientError
from hub.opendental.classify import (
    classify_status,
    classify_transport,
    error_message,
    parse_retry_after,
)
from hub.opendental.client import HTTPX_ERRORS
from hub.opendental.constants import MAX_MESSAGE_CHARS

NOW = datetime(2025, 11, 25, 12, 0, 0, tzinfo=UTC)

# (hub class, maybe_applied) for every exception class httpx exports. A class httpx adds later
# fails the test below until someone decides where it belongs.
HTTPX_EXPECTED: dict[str, tuple[type[HubError], bool | None]] = {
    # Nothing reached Open Dental: send again as is.
    "ConnectError": (TransientError, False),
    "ConnectTimeout": (TransientError, False),
    "PoolTimeout": (TransientError, False),
    "ProxyError": (TransientError, False),
    # The request was on its way or sent: it may have been processed.
    "ReadTimeout": (TransientError, True),
    "WriteTimeout": (TransientError, True),
    "TimeoutException": (TransientError, True),
    "ReadError": (TransientError, True),
    "WriteError": (TransientError, True),
    "CloseError": (TransientError, True),
    "NetworkError": (TransientError, True),
    "RemoteProtocolError": (TransientError, True),
    # Sending it again would fail the same way.
    "UnsupportedProtocol": (PermanentError, None),
    "LocalProtocolError": (PermanentError, None),
    "ProtocolError": (PermanentError, None),
    "TransportError": (PermanentError, None),
    "DecodingError": (PermanentError, None),
    "TooManyRedirects": (PermanentError, None),
    "InvalidURL": (PermanentError, None),
    "RequestError": (PermanentError, None),
    "HTTPError": (PermanentError, None),
    "HTTPStatusError": (PermanentError, None),
    "CookieConflict": (PermanentError, None),
    "StreamError": (PermanentError, None),
    "StreamClosed": (PermanentError, None),
    "StreamConsumed": (PermanentError, None),
    "RequestNotRead": (PermanentError, None),
    "ResponseNotRead": (PermanentError, None),
}


def httpx_exception_classes() -> list[type[Exception]]:
    exported = (getattr(httpx, name) for name in httpx.__all__)
    return [obj for obj in exported if isinstance(obj, type) and issubclass(obj, Exception)]


def instance_of(cls: type[Exception]) -> Exception:
    request = httpx.Request("POST", "http://127.0.0.1:1/api/v1/patients")
    if cls is httpx.HTTPStatusError:
        response = httpx.Response(500, request=request)
        return cls("boom", request=request, response=response)
    if issubclass(cls, httpx.RequestError):
        return cls("boom", request=request)
    try:
        return cls("boom")
    except TypeError:  # the stream errors take no message
        return cls()


def test_every_httpx_exception_class_is_listed() -> None:
    # Given every exception class httpx exports
    exported = {cls.__name__ for cls in httpx_exception_classes()}
    # Then each one has a decided place in the table, and the table lists nothing else
    assert exported == set(HTTPX_EXPECTED)


@pytest.mark.parametrize("cls", httpx_exception_classes(), ids=lambda cls: cls.__name__)
def test_every_httpx_exception_maps_to_exactly_one_hub_class(cls: type[Exception]) -> None:
    # Given an instance of an httpx exception
    exc = instance_of(cls)
    expected_class, expected_maybe_applied = HTTPX_EXPECTED[cls.__name__]
    # When it is classified
    error = classify_transport(exc)
    # Then it becomes exactly the expected hub class, with the expected maybe-applied flag
    assert type(error) is expected_class
    if expected_maybe_applied is not None:
        assert isinstance(error, TransientError)
        assert error.maybe_applied is expected_maybe_applied
    # And the client's boundary catches it, so no httpx exception leaks past the client
    assert isinstance(exc, HTTPX_ERRORS)
    # And the message is the class name only (httpx messages can hold URLs with filters)
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
