"""The forms webhook's Standard Webhooks protocol over real HTTP, publishing to the real broker:
the timestamp's tolerance (on an injected clock), the headers, a webhook id seen before, and the
size limit. What reached the broker is counted on a queue of the test's own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.forms import (
    INTAKE_PATH,
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    forms_app,
    intake_key,
)
from adapters.publisher import VendorPublisher
from tests.adapters.conftest import Capture, VendorAccount
from tests.adapters.forms_support import (
    MAX_BODY_BYTES,
    TOLERANCE_S,
    body_of,
    intake_config,
    intake_form,
    patient_values,
    signed,
)

NOW_S = 1_750_000_000  # the adapter's clock when a test starts
TOO_LARGE = {"error": "body_too_large", "message": f"the body is over {MAX_BODY_BYTES} bytes"}
Client = TestClient[web.Request, web.Application]


@dataclass
class Clock:
    now_s: float = NOW_S

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def publisher(vendor: VendorAccount) -> AsyncIterator[VendorPublisher]:
    async with VendorPublisher(vendor.url(), vendor.name, confirm_timeout_s=5) as opened:
        yield opened


def adapter(publisher: VendorPublisher, vendor: VendorAccount, clock: Clock) -> Client:
    """A fresh adapter (with no memory of webhook ids) on the test's clock."""
    config = intake_config(frozenset({vendor.office}), retry_after_s=5, clock=clock)
    return TestClient(TestServer(forms_app(publisher, config)))


@pytest.fixture
async def client(
    publisher: VendorPublisher, vendor: VendorAccount, clock: Clock
) -> AsyncIterator[Client]:
    async with adapter(publisher, vendor, clock) as test_client:
        yield test_client


async def post(client: Client, body: bytes, headers: dict[str, str]) -> ClientResponse:
    return await client.post(INTAKE_PATH, data=body, headers=headers)


def keys_of(submission: str) -> list[str]:
    return [intake_key(submission, "patient.create"), intake_key(submission, "commlog.create")]


async def test_a_timestamp_within_the_tolerance_either_way_is_taken(
    client: Client, vendor: VendorAccount, capture: Capture
) -> None:
    # Given two forms signed at the tolerance's edges: one as old, one as far ahead as allowed
    late = body_of(intake_form(vendor.office, "sub-late"))
    early = body_of(intake_form(vendor.office, "sub-early"))

    # When they are posted
    replies = [
        await post(client, late, signed(late, timestamp=NOW_S - TOLERANCE_S)),
        await post(client, early, signed(early, timestamp=NOW_S + TOLERANCE_S)),
    ]

    # Then both are published
    assert [reply.status for reply in replies] == [202, 202]
    assert [m.message_id for m in await capture.taken()] == keys_of("sub-late") + keys_of(
        "sub-early"
    )


@pytest.mark.parametrize("offset_s", [-TOLERANCE_S - 1, TOLERANCE_S + 1], ids=["old", "ahead"])
async def test_a_timestamp_outside_the_tolerance_is_401_and_publishes_nothing(
    client: Client, vendor: VendorAccount, capture: Capture, offset_s: int
) -> None:
    # Given a form correctly signed, but stamped a second beyond the tolerance
    body = body_of(intake_form(vendor.office, "sub-stale"))

    # When it is posted
    reply = await post(client, body, signed(body, timestamp=NOW_S + offset_s))

    # Then it is 401 saying why, and nothing reached the broker
    assert reply.status == 401
    assert (await reply.json())["error"] == "timestamp_out_of_tolerance"
    assert WEBHOOK_TIMESTAMP in (await reply.json())["message"]
    assert await capture.taken() == []


async def test_a_captured_request_replayed_after_the_tolerance_is_401(
    client: Client, vendor: VendorAccount, capture: Capture, clock: Clock
) -> None:
    # Given a signed form the adapter published
    body = body_of(intake_form(vendor.office, "sub-captured"))
    headers = signed(body, timestamp=NOW_S)
    assert (await post(client, body, headers)).status == 202
    assert len(await capture.taken()) == 2

    # When someone who captured it sends it again, byte for byte, once the tolerance has passed
    clock.now_s = NOW_S + TOLERANCE_S + 1
    replayed = await post(client, body, headers)

    # Then it is 401 and nothing more reached the broker
    assert replayed.status == 401
    assert (await replayed.json())["error"] == "timestamp_out_of_tolerance"
    assert await capture.taken() == []


async def test_a_webhook_id_seen_before_is_a_duplicate_and_publishes_nothing(
    client: Client, vendor: VendorAccount, capture: Capture, clock: Clock
) -> None:
    # Given a signed form the adapter published
    body = body_of(intake_form(vendor.office, "sub-once"))
    headers = signed(body, webhook_id="msg_once", timestamp=NOW_S)
    first = await post(client, body, headers)
    assert first.status == 202

    # When the same request comes again (a replay within the tolerance), and the sender resends
    # the webhook a minute later, signed with that attempt's time
    clock.now_s = NOW_S + 60
    replayed = await post(client, body, headers)
    resent = await post(client, body, signed(body, webhook_id="msg_once", timestamp=NOW_S + 60))

    # Then both are 200 "duplicate", naming the intents of the first reply
    for reply in (replayed, resent):
        assert reply.status == 200
        assert await reply.json() == {"duplicate": True, "intents": (await first.json())["intents"]}
    # And the broker got the form's two intents once
    assert [m.message_id for m in await capture.taken()] == keys_of("sub-once")


async def test_a_webhook_id_seen_before_with_another_body_is_409(
    client: Client, vendor: VendorAccount, capture: Capture
) -> None:
    # Given a signed form the adapter published under a webhook id
    first = body_of(intake_form(vendor.office, "sub-first"))
    published = await post(client, first, signed(first, webhook_id="msg_x", timestamp=NOW_S))
    assert published.status == 202
    assert len(await capture.taken()) == 2

    # When another form comes, correctly signed, under the same webhook id
    other = body_of(intake_form(vendor.office, "sub-other"))
    reply = await post(client, other, signed(other, webhook_id="msg_x", timestamp=NOW_S))

    # Then it is 409 and the broker got nothing of it
    assert reply.status == 409
    assert (await reply.json())["error"] == "webhook_id_reused"
    assert await capture.taken() == []


async def test_a_webhook_resent_after_a_restart_publishes_the_same_keys(
    publisher: VendorPublisher, vendor: VendorAccount, capture: Capture, clock: Clock
) -> None:
    # Given a signed form one adapter published
    body = body_of(intake_form(vendor.office, "sub-restart"))
    headers = signed(body, timestamp=NOW_S)
    async with adapter(publisher, vendor, clock) as before:
        assert (await post(before, body, headers)).status == 202

    # When the sender resends it to a restarted adapter, which remembers no webhook id
    async with adapter(publisher, vendor, clock) as after:
        again = await post(after, body, headers)

    # Then the intents published again carry the same keys: the hub's ledger makes them
    # duplicates (tests/adapters/test_forms_end_to_end.py follows them into Open Dental)
    assert again.status == 202
    assert [m.message_id for m in await capture.taken()] == keys_of("sub-restart") * 2


def _without(header: str) -> dict[str, str]:
    return {k: v for k, v in signed(b"{}", timestamp=NOW_S).items() if k != header}


@pytest.mark.parametrize(
    ("headers", "status", "names"),
    [
        ({}, 401, WEBHOOK_ID),
        (_without(WEBHOOK_TIMESTAMP), 401, WEBHOOK_TIMESTAMP),
        (_without(WEBHOOK_SIGNATURE), 401, WEBHOOK_SIGNATURE),
        (signed(b"{}", timestamp=NOW_S) | {WEBHOOK_ID: "msg.1"}, 400, WEBHOOK_ID),
        (signed(b"{}", timestamp=NOW_S) | {WEBHOOK_TIMESTAMP: "soon"}, 400, WEBHOOK_TIMESTAMP),
        (signed(b"{}", timestamp=NOW_S) | {WEBHOOK_SIGNATURE: "v1,AAAA"}, 401, WEBHOOK_SIGNATURE),
    ],
    ids=["none", "no-timestamp", "no-signature", "dotted-id", "word-timestamp", "wrong-signature"],
)
async def test_a_missing_or_malformed_header_is_refused_naming_it_without_the_body(
    client: Client,
    vendor: VendorAccount,
    capture: Capture,
    headers: dict[str, str],
    status: int,
    names: str,
) -> None:
    # Given a form whose headers miss one or have one malformed (signed over "{}", not the form)
    body = body_of(intake_form(vendor.office, "sub-headers"))

    # When it is posted
    reply = await post(client, body, headers)

    # Then the refusal names the header, echoes nothing of the form, and nothing is published
    assert reply.status == status
    assert names in (await reply.json())["message"]
    assert not [value for value in patient_values() if value in await reply.text()]
    assert await capture.taken() == []


async def test_a_body_announced_over_the_limit_is_413_before_it_is_read(
    client: Client, vendor: VendorAccount, capture: Capture
) -> None:
    # Given a request announcing a body ten times the limit, of which only 1 KiB is ever sent
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    headers = signed(b"{}", timestamp=NOW_S) | {"Content-Length": str(10 * MAX_BODY_BYTES)}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(f"POST {INTAKE_PATH} HTTP/1.1\r\nHost: forms\r\n{head}\r\n".encode())
    writer.write(b"{" + b" " * 1023)
    try:
        # When the adapter answers: a guard, since one reading the body first would wait for ever
        async with asyncio.timeout(10):
            status, reply = await _response(reader)
    finally:
        writer.close()

    # Then it is 413 with a JSON reason, and nothing is published
    assert status == 413
    assert json.loads(reply) == TOO_LARGE
    assert await capture.taken() == []


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    return int(head[0].split(" ")[1]), await reader.readexactly(int(fields["content-length"]))


async def test_a_chunked_body_over_the_limit_is_413_once_the_limit_is_read(
    client: Client, vendor: VendorAccount, capture: Capture
) -> None:
    # Given a correctly signed form whose answers take it past the size limit
    answers = [{"question": f"Q{i}", "answer": "x" * 3000} for i in range(30)]
    body = body_of(intake_form(vendor.office, "sub-large", answers=answers))
    assert len(body) > MAX_BODY_BYTES

    # When it is posted chunked, announcing no length
    headers = signed(body, timestamp=NOW_S)
    reply = await client.post(INTAKE_PATH, data=_chunks(body), headers=headers)

    # Then it is 413 with a JSON reason, and nothing is published
    assert reply.status == 413
    assert await reply.json() == TOO_LARGE
    assert await capture.taken() == []


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 16 * 1024):
        yield body[start : start + 16 * 1024]


async def test_a_body_at_the_limit_is_read(
    client: Client, vendor: VendorAccount, capture: Capture
) -> None:
    # Given a correctly signed form padded with JSON whitespace to exactly the size limit
    body = body_of(intake_form(vendor.office, "sub-at-limit"))
    body = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"

    # When it is posted, Then it is published
    assert (await post(client, body, signed(body, timestamp=NOW_S))).status == 202
    assert len(await capture.taken()) == 2
