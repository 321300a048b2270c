"""The shared HTTP client's timeouts, and an office's keys staying out of reprs."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from hub.opendental import HttpTimeouts, OfficeApi, make_http_client
from hub.settings import ApiMode


async def test_the_http_client_has_four_explicit_timeouts() -> None:
    # Given the default timeouts, When the process's HTTP client is built
    async with make_http_client(HttpTimeouts(), max_connections=20) as http:
        # Then connect, read (past Open Dental's 60 s 504), write and pool are each set
        assert http.timeout == httpx.Timeout(connect=5.0, read=65.0, write=10.0, pool=10.0)


async def test_the_http_client_timeouts_are_configurable() -> None:
    # Given other timeouts, When the client is built, Then it uses them
    timeouts = HttpTimeouts(connect_s=1.0, read_s=2.0, write_s=3.0, pool_s=4.0)
    async with make_http_client(timeouts, max_connections=1) as http:
        assert http.timeout == httpx.Timeout(connect=1.0, read=2.0, write=3.0, pool=4.0)


def office(mode: ApiMode, page_rows: int | None = None) -> OfficeApi:
    return OfficeApi(
        office_id="office-9",
        base_url="http://127.0.0.1:30223/api/v1",
        developer_key=SecretStr("DevKeySecret0001"),
        customer_key=SecretStr("CustKeySecret002"),
        mode=mode,
        page_rows=page_rows,
    )


def test_office_keys_never_show_in_its_repr() -> None:
    # Given an office, When it is printed, Then neither key appears
    text = f"{office(ApiMode.REMOTE)!r} {office(ApiMode.REMOTE)}"
    assert "DevKeySecret0001" not in text
    assert "CustKeySecret002" not in text


def test_the_authorization_header_names_both_keys() -> None:
    # Given an office, When its Authorization value is built, Then it is Open Dental's scheme
    assert office(ApiMode.SERVICE).authorization() == "ODFHIR DevKeySecret0001/CustKeySecret002"


@pytest.mark.parametrize(
    ("mode", "page_rows", "expected"),
    [
        (ApiMode.REMOTE, None, 100),
        (ApiMode.SERVICE, None, 1000),
        (ApiMode.LOCAL, None, 1000),
        (ApiMode.SERVICE, 25, 25),
        (ApiMode.REMOTE, 500, 100),  # never more than the mode serves
    ],
)
def test_page_limit_follows_the_mode(mode: ApiMode, page_rows: int | None, expected: int) -> None:
    # Given a mode and an optional page size, When the page limit is read, Then it fits the mode
    assert office(mode, page_rows).page_limit == expected
