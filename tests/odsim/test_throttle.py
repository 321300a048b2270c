"""The simulator's per-customer-key throttle, over real HTTP on a tiny app with a stand-in auth."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from aiohttp import web

from odsim.server import running_simulator
from odsim.throttle import (
    OverLimitReply,
    Reading,
    ThrottleConfig,
    ThrottleCounts,
    throttle_middleware,
)
from tests.odsim.conftest import FULL_KEY, REMOTE_KEY, auth, sim_config
from tests.odsim.tiny_app import caller_headers, serve


async def _statuses(client: httpx.AsyncClient, headers: list[dict[str, str]]) -> list[int]:
    return [(await client.get("/api/v1/patients", headers=h)).status_code for h in headers]


async def test_second_request_within_the_slot_gets_429_with_retry_after() -> None:
    # Given a remote-mode key holding the Patients permission
    config = ThrottleConfig()
    async with (
        serve([throttle_middleware(config)]) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        headers = caller_headers("key-a")

        # When it sends two requests back to back
        first = await client.get("/api/v1/patients", headers=headers)
        second = await client.get("/api/v1/patients", headers=headers)

    # Then the second is refused with 429, a one-second Retry-After and a bare-string body
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "1"
    assert json.loads(second.text) == config.reject_body
    assert app.handled == ["GET /api/v1/patients"]


@pytest.mark.parametrize("mode", ["service", "local"])
async def test_service_and_local_modes_are_not_throttled(mode: str) -> None:
    # Given a key calling in service or local mode
    async with (
        serve([throttle_middleware(ThrottleConfig())]) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        # When it sends five requests back to back
        statuses = await _statuses(client, [caller_headers("key-a", mode=mode)] * 5)

    # Then every one of them is served
    assert statuses == [200] * 5


async def test_read_all_only_key_gets_a_five_second_slot() -> None:
    # Given a remote-mode key holding ReadAll only
    async with (
        serve([throttle_middleware(ThrottleConfig())]) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        headers = caller_headers("free-key", permissions="ReadAll")

        # When it sends two requests back to back
        first = await client.get("/api/v1/patients", headers=headers)
        second = await client.get("/api/v1/patients", headers=headers)

    # Then the second is told to come back in five seconds, not one
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "5"


async def test_throttle_is_per_customer_key() -> None:
    # Given two remote-mode keys
    async with (
        serve([throttle_middleware(ThrottleConfig())]) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        # When key A uses its slot twice and then key B asks for its first
        statuses = await _statuses(
            client, [caller_headers("key-a"), caller_headers("key-a"), caller_headers("key-b")]
        )

    # Then only key A's second request is refused
    assert statuses == [200, 429, 200]


async def test_other_status_and_body_can_be_configured() -> None:
    # Given a throttle that answers over-limit requests with 503 and its own message
    config = ThrottleConfig(reject_status=503, reject_body="Busy, try later.")
    async with (
        serve([throttle_middleware(config)]) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        # When one key sends two requests back to back
        statuses = await _statuses(client, [caller_headers("key-a")] * 2)
        third = await client.get("/api/v1/patients", headers=caller_headers("key-a"))

    # Then the refusals carry that status and that bare-string body
    assert statuses == [200, 503]
    assert third.status_code == 503
    assert json.loads(third.text) == "Busy, try later."
    assert "Retry-After" in third.headers


async def test_queue_reply_holds_requests_until_their_slots() -> None:
    # Given a throttle that queues over-limit requests, with a short slot to keep the test fast
    config = ThrottleConfig(reply=OverLimitReply.QUEUE, interval_s=0.2)
    async with (
        serve([throttle_middleware(config)]) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        headers = caller_headers("key-a")

        # When one key sends three requests at once
        responses = await asyncio.gather(
            *(client.get("/api/v1/patients", headers=headers) for _ in range(3))
        )

    # Then none is refused: all three were held and then served
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len(app.handled) == 3


async def test_simulator_throttles_its_remote_keys_only(empty_database: str) -> None:
    # Given the simulator with Open Dental's default throttle, a remote key and a service key
    config = sim_config(empty_database).model_copy(update={"throttle": ThrottleConfig()})
    async with running_simulator(config) as sim, httpx.AsyncClient(base_url=sim.base_url) as client:
        # When each key reads patients twice back to back
        remote = [await client.get("/patients/Simple", headers=auth(REMOTE_KEY)) for _ in "ab"]
        service = [await client.get("/patients/Simple", headers=auth(FULL_KEY)) for _ in "ab"]

    # Then only the remote key's second read is refused, with Retry-After
    assert [r.status_code for r in remote] == [200, 429]
    assert remote[1].headers["Retry-After"] == "1"
    assert [r.status_code for r in service] == [200, 200]


def test_only_a_busy_keys_gaps_are_counted() -> None:
    # Given the counts of a throttle with a one-second slot
    counts = ThrottleCounts()

    # When key A starts at 0 s, 1.02 s and, after a pause, 3 s, and key B once at 1.5 s
    for key, at in (("a", 0.0), ("a", 1.02), ("b", 1.5), ("a", 3.0)):
        counts.started(key, at, 1.0)

    # Then only A's gap while it was kept busy counts (1.98 s is over one and a half slots),
    # and a key's first start has no gap
    assert counts.busy_gaps == 1
    assert counts.busy_gap_s == pytest.approx(1.02)


async def test_counts_show_each_slots_start_and_how_long_it_ran() -> None:
    # Given a queueing throttle with a half-second slot (ample for three requests sent at once
    # to arrive inside it) and a handler that takes 20 ms
    counts = ThrottleCounts()
    config = ThrottleConfig(reply=OverLimitReply.QUEUE, interval_s=0.5)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.02)
        return web.json_response([])

    routes = [web.get("/api/v1/slow", slow), *counts.admin_routes()]
    async with (
        serve([throttle_middleware(config, counts)], routes) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        # When one key sends three requests at once
        await asyncio.gather(
            *(client.get("/api/v1/slow", headers=caller_headers("key-a")) for _ in range(3))
        )
        document = (await client.get("/admin/throttle")).json()

    # Then the second and third started one slot after the one before, and each of the three
    # ran at least as long as the handler slept
    assert (document["busy_gaps"], document["handled"]) == (2, 3)
    assert document["busy_gap_s"] == pytest.approx(1.0)
    assert document["handling_s"] >= 3 * 0.02 - 1e-3


SLOT_S = 0.5
WAIT_S = 2 * SLOT_S  # waited before a request meant to find the slot open, whatever the reading


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        # B comes while A runs: within A's slot, and before A's reply. C comes as A replies,
        # over a slot after A started. D comes a slot after C.
        (Reading.STARTS, [200, 429, 200, 200]),
        (Reading.REPLIES, [200, 429, 429, 200]),
    ],
)
async def test_each_reading_refuses_exactly_its_requests(
    reading: Reading, expected: list[int]
) -> None:
    # Given a throttle with a half-second slot in the given reading, and a handler that holds
    # the first request until the test lets it go (no clock decides when A replies)
    entered, release = asyncio.Event(), asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.json_response([])

    config = ThrottleConfig(interval_s=SLOT_S, reading=reading)
    async with (
        serve([throttle_middleware(config)], [web.get("/api/v1/held", held)]) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        headers = caller_headers("key-a")
        # When A starts and is held
        a = asyncio.create_task(client.get("/api/v1/held", headers=headers))
        await entered.wait()
        # And B comes while A runs
        b = await client.get("/api/v1/patients", headers=headers)
        # And A replies more than a slot after it started, and C comes right after the reply
        await asyncio.sleep(WAIT_S)
        release.set()
        first = await a
        c = await client.get("/api/v1/patients", headers=headers)
        # And D comes a slot after C
        await asyncio.sleep(WAIT_S)
        d = await client.get("/api/v1/patients", headers=headers)

    # Then the reading decides which were refused
    assert [r.status_code for r in (first, b, c, d)] == expected


def test_replies_reading_does_not_queue() -> None:
    # Given the replies reading, When the over-limit reply is queue, Then the config is refused:
    # a queued request would wait for a reply that has not been sent
    with pytest.raises(ValueError, match="reject, not queue"):
        ThrottleConfig(reading=Reading.REPLIES, reply=OverLimitReply.QUEUE)
