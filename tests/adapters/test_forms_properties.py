"""Properties of the forms webhook, over real HTTP to the adapter publishing to the real broker:
random bodies and headers never make it answer 500, and a request without a valid signature
never publishes, however good its form, id and timestamp. What reached the broker is counted on
a queue of the test's own, after each request."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.forms import (
    INTAKE_PATH,
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    forms_app,
    secret_key,
    sign,
)
from adapters.publisher import VendorPublisher
from tests.adapters.conftest import Capture, VendorAccount
from tests.adapters.forms_support import (
    KEY,
    MAX_BODY_BYTES,
    TOLERANCE_S,
    body_of,
    intake_config,
    intake_form,
)

NOW_S = 1_750_000_000  # the adapter's clock, fixed
OTHER_KEY = secret_key("whsec_" + base64.b64encode(b"a sender's other secret, 32 bytes").decode())
# What the webhook may answer; 403 and 503 need an office outside the agreements or a broker
# that does not confirm, which these requests never have.
ANSWERS = {200, 202, 400, 401, 409, 413, 422}
Client = TestClient[web.Request, web.Application]
Request = tuple[bytes, dict[str, str]]

# Fast enough for every run: each example is one request, and at most two publishes.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,  # examples are not kept (tests/conftest.py puts Hypothesis' caches in /tmp)
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one adapter for all examples
)

# Header values as an HTTP client can send them: no control characters.
TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=60)
IDS = st.one_of(
    st.uuids().map(lambda uuid: f"msg_{uuid.hex}"),
    st.from_regex(r"msg_[A-Za-z0-9_-]{1,40}", fullmatch=True),  # may repeat: a resend, or a 409
)
FRESH_TIMESTAMPS = st.integers(NOW_S - TOLERANCE_S, NOW_S + TOLERANCE_S).map(str)
TIMESTAMPS = st.one_of(
    FRESH_TIMESTAMPS,
    st.integers(-(10**15), 10**15).map(str),
    TEXT,
)


def forms(office: str) -> st.SearchStrategy[bytes]:
    """Intake forms for the vendor's office, valid or nearly so."""
    names = st.one_of(st.from_regex(r"[A-Z][a-z]{1,20}", fullmatch=True), TEXT)
    patient = st.fixed_dictionaries(
        {"last_name": names, "first_name": names},
        optional={
            "birthdate": st.sampled_from(["1984-07-19", "1984-19-07", "", "19840719"]),
            "gender": st.sampled_from(["female", "male", "robot"]),
            "email": st.sampled_from(["a@example.com", "not an e-mail"]),
            "state": st.sampled_from(["OR", "Oregon"]),
        },
    )
    answers = st.lists(st.fixed_dictionaries({"question": TEXT, "answer": TEXT}), max_size=3)
    submissions = st.uuids().map(lambda uuid: f"sub-{uuid}")

    def form(submission: str, patient: dict[str, Any], answers: list[dict[str, str]]) -> bytes:
        return body_of(intake_form(office, submission, patient=patient, answers=answers))

    return st.builds(form, submissions, patient, answers)


def bodies(office: str) -> st.SearchStrategy[bytes]:
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=12,
    )
    return st.one_of(
        forms(office),
        st.binary(max_size=300),
        json_values.map(lambda value: json.dumps(value).encode()),
        # around the size limit
        st.integers(MAX_BODY_BYTES - 2, MAX_BODY_BYTES + 2).map(lambda n: b" " * n),
    )


@st.composite
def any_requests(draw: st.DrawFn, office: str) -> Request:
    """Any body, with any of the three headers, each well-formed or not, signed or not."""
    body = draw(st.one_of(forms(office), bodies(office)))
    webhook_id = draw(st.one_of(IDS, TEXT))
    timestamp = draw(st.one_of(FRESH_TIMESTAMPS, TIMESTAMPS))
    signature = draw(
        st.one_of(
            st.just(sign(KEY, webhook_id, timestamp, body)),
            TEXT,
            TEXT.map(lambda text: f"v1,{text}"),
            st.binary(min_size=32, max_size=32).map(lambda mac: _v1(mac)),
        )
    )
    headers = {WEBHOOK_ID: webhook_id, WEBHOOK_TIMESTAMP: timestamp, WEBHOOK_SIGNATURE: signature}
    left_out = draw(st.one_of(st.just(set()), st.sets(st.sampled_from(sorted(headers)))))
    return body, {name: value for name, value in headers.items() if name not in left_out}


@st.composite
def badly_signed_requests(draw: st.DrawFn, office: str) -> Request:
    """A form with a well-formed id and a fresh timestamp, under signatures none of which is a
    v1 signature of that id, timestamp and body with the adapter's key."""
    body = draw(st.one_of(forms(office), bodies(office)))
    webhook_id, timestamp = draw(IDS), draw(FRESH_TIMESTAMPS)
    wrong = st.one_of(
        TEXT,
        TEXT.map(lambda text: f"v1,{text}"),
        st.binary(min_size=32, max_size=32).map(lambda mac: _v1(mac)),
        st.just(sign(OTHER_KEY, webhook_id, timestamp, body)),
        IDS.filter(lambda other: other != webhook_id).map(
            lambda other: sign(KEY, other, timestamp, body)
        ),
        st.integers(1, 10**6).map(lambda d: sign(KEY, webhook_id, str(int(timestamp) + d), body)),
        st.binary(min_size=1, max_size=8).map(
            lambda more: sign(KEY, webhook_id, timestamp, body + more)
        ),
        st.just("v1a," + sign(KEY, webhook_id, timestamp, body).removeprefix("v1,")),
        st.just(sign(KEY, webhook_id, timestamp, body).removeprefix("v1,")),
    )
    signatures = " ".join(draw(st.lists(wrong, min_size=1, max_size=3)))
    return body, {
        WEBHOOK_ID: webhook_id,
        WEBHOOK_TIMESTAMP: timestamp,
        WEBHOOK_SIGNATURE: signatures,
    }


def _v1(mac: bytes) -> str:
    return "v1," + base64.b64encode(mac).decode("ascii")


@pytest.fixture
async def client(vendor: VendorAccount) -> AsyncIterator[Client]:
    """One adapter for all examples, publishing as the vendor, on a fixed clock."""
    config = intake_config(frozenset({vendor.office}), retry_after_s=5, clock=lambda: NOW_S)
    publisher = VendorPublisher(vendor.url(), vendor.name, confirm_timeout_s=5)
    async with publisher, TestClient(TestServer(forms_app(publisher, config))) as test_client:
        yield test_client


async def _post(client: Client, request: Request) -> tuple[int, dict[str, Any]]:
    body, headers = request
    reply = await client.post(INTAKE_PATH, data=body, headers=headers)
    assert reply.content_type == "application/json"
    return reply.status, await reply.json()


@PROPERTY
@given(data=st.data())
async def test_random_requests_never_answer_500(
    client: Client, vendor: VendorAccount, data: st.DataObject
) -> None:
    # Given any body, with the webhook's headers or some of them, well-formed or not
    request = data.draw(any_requests(vendor.office))

    # When it is posted, Then the answer is one the webhook documents, as JSON
    status, reply = await _post(client, request)
    event(f"{status} {reply.get('error', '')}")  # the spread, in --hypothesis-show-statistics
    assert status in ANSWERS
    assert "error" in reply if status >= 400 else "intents" in reply


@PROPERTY
@given(data=st.data())
async def test_a_bad_signature_never_publishes(
    client: Client, vendor: VendorAccount, capture: Capture, data: st.DataObject
) -> None:
    # Given a form for the vendor's office with a good id and timestamp, and no valid signature
    request = data.draw(badly_signed_requests(vendor.office))

    # When it is posted
    status, reply = await _post(client, request)

    # Then it is refused (401, or 413 for a body over the limit), and nothing reached the broker
    assert status in {401, 413}, reply
    assert await capture.taken() == []
