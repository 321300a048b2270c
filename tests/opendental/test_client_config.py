"""An office's keys staying out of reprs, its Authorization header and its page size."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from hub.opendental import OfficeApi
from hub.settings import ApiMode


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
