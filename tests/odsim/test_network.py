"""The simulated network's legs per customer key, read from the simulator's own timestamps."""

from __future__ import annotations

import asyncio

import httpx
from aiohttp import web

from odsim.network import Latency, Network
from odsim.server import running_simulator
from odsim.throttle import ThrottleConfig, ThrottleCounts, throttle_middleware
from tests.odsim.conftest import FULL_KEY, REMOTE_KEY, auth, sim_config
from tests.odsim.tiny_app import caller_headers, serve

SLOW_IN = Latency(request_ms=40, request_jitter_ms=20)
SLOW_OUT = Latency(reply_ms=40, reply_jitter_ms=20)


async def test_each_leg_waits_on_its_side_of_the_handler() -> None:
    # Given a network where key "in" is slow on the way in and key "out" on the way back, and a
    # handler that notes when it runs (on the same loop clock as the simulator's timestamps)
    network = Network(Latency(), [("in", SLOW_IN), ("out", SLOW_OUT)], seed=3)
    ran_at: list[float] = []

    async def noted(request: web.Request) -> web.Response:
        ran_at.append(asyncio.get_running_loop().time())
        return web.json_response([])

    routes = [web.get("/api/v1/noted", noted), *network.admin_routes()]
    async with (
        serve([network.middleware()], routes) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        # When each key sends three requests, one after the other
        for key in ("in", "in", "in", "out", "out", "out"):
            await client.get("/api/v1/noted", headers=caller_headers(key))
        document = (await client.get("/admin/network")).json()

    # Then each request's legs were drawn within its key's bounds, only on its key's side
    recent = document["recent"]
    assert document["requests"] == len(recent) == 6
    inbound, outbound = recent[:3], recent[3:]
    assert all(40 <= r["request_ms"] <= 60 and r["reply_ms"] == 0 for r in inbound)
    assert all(r["request_ms"] == 0 and 40 <= r["reply_ms"] <= 60 for r in outbound)
    # And the handler ran after the request leg was over and before the reply leg began, each
    # leg lasting at least what was drawn for it
    for times, handled_at in zip(recent, ran_at, strict=True):
        assert times["arrived_at"] <= times["registered_at"] <= handled_at
        assert handled_at <= times["replied_at"] <= times["sent_at"]
        assert times["registered_at"] - times["arrived_at"] >= times["request_ms"] / 1000 - 1e-6
        assert times["sent_at"] - times["replied_at"] >= times["reply_ms"] / 1000 - 1e-6


async def test_the_throttle_registers_a_request_once_its_request_leg_is_over() -> None:
    # Given a key whose requests spend 300 ms on the way in, behind a throttle with a 0.2 s slot
    # counted from starts
    network = Network(Latency(request_ms=300), [], seed=None)
    counts = ThrottleCounts()
    throttle = throttle_middleware(ThrottleConfig(interval_s=0.2), counts)
    async with (
        serve([network.middleware(), throttle], [*network.admin_routes()]) as app,
        httpx.AsyncClient(base_url=app.base_url) as client,
    ):
        # When it sends two requests at once
        statuses = sorted(
            r.status_code for r in await asyncio.gather(
                *(client.get("/api/v1/patients", headers=caller_headers("k")) for _ in "ab")
            )
        )
        document = (await client.get("/admin/network")).json()

    # Then the throttle saw them arrive together after their legs: one passed, one refused,
    # and the refusal also travelled both legs
    assert statuses == [200, 429]
    assert (counts.passed, counts.rejected) == (1, 1)
    assert sorted(r["status"] for r in document["recent"]) == [200, 429]


async def test_simulator_applies_the_global_legs_and_a_keys_own(empty_database: str) -> None:
    # Given the simulator with global legs, and the remote key with its own
    base = sim_config(empty_database)
    customers = tuple(
        c.model_copy(update={"latency": SLOW_OUT}) if c.key == REMOTE_KEY else c
        for c in base.customers
    )
    config = base.model_copy(update={
        "customers": customers, "latency": SLOW_IN, "latency_seed": 5,
        "throttle": ThrottleConfig(interval_s=0),
    })
    async with running_simulator(config) as sim, httpx.AsyncClient(base_url=sim.base_url) as api:
        # When the full key and then the remote key read patients
        await api.get("/patients/Simple", headers=auth(FULL_KEY))
        await api.get("/patients/Simple", headers=auth(REMOTE_KEY))
        root = sim.base_url.removesuffix("/api/v1")
        document = (await api.get(f"{root}/admin/network")).json()

    # Then the full key's request was slow on the way in, the remote key's on the way back
    full, remote = document["recent"]
    assert 40 <= full["request_ms"] <= 60 and full["reply_ms"] == 0
    assert remote["request_ms"] == 0 and 40 <= remote["reply_ms"] <= 60
    assert full["status"] == remote["status"] == 200
