"""Reply shapes the simulator never produces, served over real HTTP by a small local server.

The simulator is the target for everything it can do (STYLE.md rule 7); each test here says why
it cannot.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web

from hub.errors import PermanentError, ThrottledError
from hub.opendental.constants import THROTTLE_DEFER_S
from odsim.config import DEFAULT_DEVELOPER
from tests.opendental.conftest import FULL_KEY, Harness, MakeHarness, RecordingPacer, office_api
from tests.support.http_server import serving_app

BASE_URL = "http://od.test/api/v1"  # only ever written into Location headers
Handler = Callable[[web.Request], Awaitable[web.Response]]
MockOffice = Callable[[Handler], Harness]


@pytest.fixture
async def mock_od(make_harness: MakeHarness) -> AsyncIterator[MockOffice]:
    """Build clients for an office whose every reply comes from a handler, behind one server."""
    handlers: list[Handler] = []

    async def dispatch(request: web.Request) -> web.Response:
        return await handlers[-1](request)

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", dispatch)
    async with serving_app(app) as root:
        base_url = f"{root}/api/v1"

        def make(handler: Handler) -> Harness:
            handlers.append(handler)
            return make_harness(office_api(base_url), pacer=RecordingPacer())

        yield make


def reply(status: int, body: object = None, headers: dict[str, str] | None = None) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        content = b"" if body is None else json.dumps(body).encode()
        return web.Response(status=status, body=content, headers=headers)

    return handle


def deferred(od: Harness) -> list[tuple[str, float]]:
    assert isinstance(od.pacer, RecordingPacer)
    return od.pacer.deferred


@pytest.mark.parametrize(
    ("status", "message"),
    [
        # The simulator deprecates no resource, so it never answers 410.
        (410, "This resource has been deprecated."),
        # The client has no method whose verb the route lacks, so the simulator's 405 is
        # unreachable through it.
        (405, "Method Not Allowed"),
        # Open Dental documents neither; a proxy in front of it could send them.
        (409, "Conflict"),
        (422, "Unprocessable Entity"),
    ],
)
async def test_other_client_errors_are_permanent(
    mock_od: MockOffice, status: int, message: str
) -> None:
    # Given Open Dental answering a 4xx the simulator does not send
    od = mock_od(reply(status, message))
    # When a patient is created
    with pytest.raises(PermanentError) as caught:
        await od.client.create_patient({"LName": "A", "FName": "B"})
    # Then it is permanent and keeps the status and message
    assert (caught.value.status, str(caught.value)) == (status, message)
    assert od.calls[0].status == status


async def test_retry_after_as_an_http_date_is_honoured(mock_od: MockOffice) -> None:
    # Why mocked: the simulator's throttle sends Retry-After in seconds only.
    # Given a throttle reply whose Retry-After is a date two minutes ahead
    when = datetime.now(UTC) + timedelta(seconds=120)
    od = mock_od(reply(429, "Slow down.", {"Retry-After": format_datetime(when, usegmt=True)}))
    # When a patient is read
    with pytest.raises(ThrottledError) as caught:
        await od.client.get_patient(1)
    # Then the delay is the seconds until that date, and the key is deferred by as much
    retry_after_s = caught.value.retry_after_s
    assert retry_after_s is not None and 60 < retry_after_s <= 120
    assert deferred(od) == [(FULL_KEY, retry_after_s)]


async def test_a_throttle_reply_without_retry_after_still_defers(mock_od: MockOffice) -> None:
    # Why mocked: the simulator's throttle always sends Retry-After.
    # Given a throttle reply naming no delay
    od = mock_od(reply(429, "Slow down."))
    # When a patient is read
    with pytest.raises(ThrottledError) as caught:
        await od.client.get_patient(1)
    # Then no delay is claimed, and the key is still deferred by the default
    assert caught.value.retry_after_s is None
    assert deferred(od) == [(FULL_KEY, THROTTLE_DEFER_S)]


async def test_a_location_that_disagrees_with_the_key_is_permanent(mock_od: MockOffice) -> None:
    # Why mocked: the simulator builds Location from the key it inserted, so they always agree.
    # Given a 201 whose Location names another PatNum than its body
    od = mock_od(reply(201, {"PatNum": 48}, {"Location": f"{BASE_URL}/patients/49"}))
    # When a patient is created
    with pytest.raises(PermanentError) as caught:
        await od.client.create_patient({"LName": "A", "FName": "B"})
    # Then the reply is not trusted, and never retried: the row may well exist
    assert "Location" in str(caught.value)
    assert od.calls[0].status == 201
    assert od.calls[0].message == str(caught.value)
    assert od.calls[0].od_primary_key is None


async def test_a_201_without_an_object_takes_the_key_from_location(mock_od: MockOffice) -> None:
    # Why mocked: the simulator plays a current version; Commlogs POST returned no object
    # before 23.3.7.
    # Given a 201 with an empty body and a Location
    od = mock_od(reply(201, None, {"Location": f"{BASE_URL}/commlogs/7"}))
    # When a commlog is created
    created = await od.client.create_commlog({"PatNum": 1, "Note": "n"})
    # Then its key comes from the Location header
    assert (created.table, created.primary_key, created.body) == ("commlog", 7, {})
    assert od.calls[0].od_primary_key == 7


async def test_a_201_without_any_key_is_permanent(mock_od: MockOffice) -> None:
    # Why mocked: the simulator always returns the created object.
    # Given a 201 that names no key at all
    od = mock_od(reply(201, {"Note": "n"}))
    # When a commlog is created, Then it is permanent (a person must look: it may exist)
    with pytest.raises(PermanentError, match="CommlogNum"):
        await od.client.create_commlog({"PatNum": 1, "Note": "n"})


async def test_a_read_that_is_not_json_is_permanent(mock_od: MockOffice) -> None:
    # Why mocked: the simulator always answers JSON.
    # Given a 200 whose body is HTML
    async def maintenance(request: web.Request) -> web.Response:
        return web.Response(status=200, text="<html>maintenance</html>", content_type="text/html")

    od = mock_od(maintenance)
    # When a patient is read, Then it is permanent and reported with its status
    with pytest.raises(PermanentError):
        await od.client.get_patient(1)
    assert od.calls[0].status == 200
    assert od.calls[0].message is not None


async def test_an_update_reply_naming_another_row_is_permanent(mock_od: MockOffice) -> None:
    # Why mocked: the simulator always returns the row it updated.
    # Given a PUT reply for another AptNum
    od = mock_od(reply(200, {"AptNum": 2}))
    # When appointment 1 is updated, Then the reply is not trusted
    with pytest.raises(PermanentError, match="AptNum"):
        await od.client.update_appointment(1, {"Note": "n"})


async def test_a_list_that_ignores_offset_stops_with_a_permanent_error(
    mock_od: MockOffice,
) -> None:
    # Why mocked: the simulator honours Offset; Open Dental ignores parameters it does not know.
    # Given a server that returns the same full page whatever the Offset
    page = [{"ProvNum": n} for n in range(1000)]
    od = mock_od(reply(200, page))
    # When providers are listed, Then the client gives up after the repeated page
    with pytest.raises(PermanentError, match="Offset"):
        await od.client.list_providers()
    assert len(od.calls) == 2


async def test_requests_carry_the_auth_and_json_headers(mock_od: MockOffice) -> None:
    # Why mocked: the simulator checks these headers but does not echo them back to observe.
    # Given an office that records what it receives
    seen: list[tuple[web.Request, bytes]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request, await request.read()))
        return web.json_response({"PatNum": 5}, status=201 if request.method == "POST" else 200)

    od = mock_od(record)
    # When a patient is created and read
    await od.client.create_patient({"LName": "A", "FName": "B", "PriProv": 1})
    await od.client.get_patient(5)
    # Then both requests had Open Dental's auth header and the JSON content type
    (post, post_body), (get, _) = seen
    for request in (post, get):
        assert request.headers["Authorization"] == f"ODFHIR {DEFAULT_DEVELOPER.key}/{FULL_KEY}"
        assert request.headers["Content-Type"] == "application/json"
    # And the POST carried exactly the wire fields, to the resource's URL
    assert json.loads(post_body) == {"LName": "A", "FName": "B", "PriProv": 1}
    assert (post.path_qs, get.path_qs) == ("/api/v1/patients", "/api/v1/patients/5")
