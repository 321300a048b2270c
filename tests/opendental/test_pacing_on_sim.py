"""Both pacings against the real simulator, in each throttle reading, with a short slot and a
network of 80 to 120 ms round trips: throttle replies die out, and the adaptive pacing's starts
come closer together than the replies pacing's."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from hub.errors import ThrottledError
from hub.opendental import HttpClient, KeyPacer, OpenDentalClient
from hub.settings import ApiMode, Pacing
from odsim.config import ApiMode as SimMode
from odsim.config import CustomerConfig, SimConfig
from odsim.network import Latency
from odsim.server import SimHandle, running_simulator
from odsim.throttle import Reading, ThrottleConfig
from tests.opendental.conftest import office_api

SLOT_S = 0.2
LEGS = Latency(request_ms=40, request_jitter_ms=20, reply_ms=40, reply_jitter_ms=20)
KEYS = {Pacing.ADAPTIVE: "AdaptiveKey00001", Pacing.REPLIES: "RepliesKey000001"}
REQUESTS = 40
WARM_UP = 12  # requests left out: the floor is learnt, a throttle reply or two taught


@dataclass(frozen=True, kw_only=True)
class Run:
    throttled_after_warm_up: int
    mean_gap_s: float  # between the key's starts, as the simulator's throttle saw them


async def _throttle_counts(sim: SimHandle) -> dict[str, float]:
    root = sim.base_url.removesuffix("/api/v1")
    async with httpx.AsyncClient() as client:
        counts: dict[str, float] = (await client.get(f"{root}/admin/throttle")).json()
    return counts


async def _run(sim: SimHandle, http: HttpClient, pacing: Pacing) -> Run:
    office = office_api(sim.base_url, KEYS[pacing], mode=ApiMode.REMOTE)
    pacer = KeyPacer(pacing=pacing, remote_interval_s=SLOT_S)
    pacer.register(office)
    client = OpenDentalClient(http, office, pacer)
    before = await _throttle_counts(sim)
    throttled = 0
    for n in range(REQUESTS):
        try:
            await client.list_patients_simple(LName="Nobody")
        except ThrottledError:
            throttled += n >= WARM_UP
    after = await _throttle_counts(sim)
    gaps = after["busy_gaps"] - before["busy_gaps"]
    return Run(
        throttled_after_warm_up=throttled,
        mean_gap_s=(after["busy_gap_s"] - before["busy_gap_s"]) / gaps,
    )


@pytest.mark.parametrize("reading", list(Reading))
async def test_throttle_replies_die_out_and_starts_pacing_is_closer(
    empty_database: str, http: HttpClient, reading: Reading
) -> None:
    # Given the simulator throttling remote keys by the reading with a 0.2 s slot, its network
    # 80 to 120 ms round trip, and one remote key per pacing
    config = SimConfig(
        customers=tuple(
            CustomerConfig(key=key, database=empty_database, mode=SimMode.REMOTE)
            for key in KEYS.values()
        ),
        throttle=ThrottleConfig(interval_s=SLOT_S, reading=reading),
        latency=LEGS,
        latency_seed=21,
    )
    async with running_simulator(config) as sim:
        # When each pacing sends its requests one after the other, the adaptive one first
        adaptive = await _run(sim, http, Pacing.ADAPTIVE)
        from_replies = await _run(sim, http, Pacing.REPLIES)

    # Then after the warm-up the adaptive pacing meets at most one throttle reply and the
    # replies pacing none
    assert adaptive.throttled_after_warm_up <= 1
    assert from_replies.throttled_after_warm_up == 0
    # And its starts come closer together: the replies pacing waits the whole round trip (at
    # least 80 ms on top of the slot), the adaptive one its spread (and, in the replies
    # reading, a back-off)
    assert adaptive.mean_gap_s < from_replies.mean_gap_s
