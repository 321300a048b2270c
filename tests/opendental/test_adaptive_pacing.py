"""The adaptive pacing on a fake clock: the floor of the round trips, the credit it gives, the
back-off after a throttle reply, and a fake Open Dental throttling by either reading."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import StrEnum

import pytest

from hub.opendental.pacer import BACKOFF_STEP_S, FLOOR_WINDOW, MIN_FLOOR_SAMPLES, KeyPacer
from hub.settings import ApiMode, Pacing
from tests.opendental.test_pacer import FakeClock, office, take

MARGIN_S = 0.001
SLOT_S = 1.0


def pacer_for(clock: FakeClock, pacing: Pacing = Pacing.ADAPTIVE) -> KeyPacer:
    pacer = KeyPacer(pacing=pacing, safety_margin_s=MARGIN_S, clock=clock, sleep=clock.sleep)
    pacer.register(office("k", ApiMode.REMOTE))
    return pacer


async def warm(pacer: KeyPacer, clock: FakeClock, round_trip_s: float, count: int) -> None:
    for _ in range(count):
        await take(pacer, "k", runs_s=round_trip_s, clock=clock)


async def next_send_after(pacer: KeyPacer, clock: FakeClock, round_trip_s: float) -> float:
    """Send one request that takes ``round_trip_s``, then how long after its send the next
    request goes."""
    async with pacer.slot("k"):
        sent_at = clock.now
        clock.now += round_trip_s
    async with pacer.slot("k"):
        gap_s = clock.now - sent_at
        clock.now += round_trip_s
    return gap_s


async def test_steady_round_trips_pace_from_the_send() -> None:
    # Given a key whose round trips all took 300 ms, enough of them to trust their floor
    clock = FakeClock()
    pacer = pacer_for(clock)
    await warm(pacer, clock, 0.3, MIN_FLOOR_SAMPLES)
    # When one more takes 300 ms, Then the next request goes a slot after its send, not after
    # its reply
    assert await next_send_after(pacer, clock, 0.3) == pytest.approx(SLOT_S + MARGIN_S)


async def test_a_slower_round_trip_delays_the_next_send_by_its_excess() -> None:
    # Given a key whose fastest round trips took 300 ms
    clock = FakeClock()
    pacer = pacer_for(clock)
    await warm(pacer, clock, 0.3, MIN_FLOOR_SAMPLES)
    # When one takes 380 ms (it may have been registered 80 ms late), Then the next request
    # goes 80 ms later than a slot after its send (and a little more: the floor of nine round
    # trips is still in doubt)
    gap_s = await next_send_after(pacer, clock, 0.38)
    assert SLOT_S + MARGIN_S + 0.08 <= gap_s <= SLOT_S + MARGIN_S + 0.09


async def test_until_the_floor_is_known_a_key_is_paced_from_replies() -> None:
    # Given a key with fewer round trips seen than the floor needs
    clock = FakeClock()
    pacer = pacer_for(clock)
    await warm(pacer, clock, 0.3, MIN_FLOOR_SAMPLES - 2)
    # When one more takes 300 ms, Then the next request waits a whole slot after the reply
    assert await next_send_after(pacer, clock, 0.3) == pytest.approx(0.3 + SLOT_S + MARGIN_S)


async def test_replies_pacing_never_credits_the_round_trip() -> None:
    # Given the replies pacing and many round trips of 300 ms
    clock = FakeClock()
    pacer = pacer_for(clock, Pacing.REPLIES)
    await warm(pacer, clock, 0.3, 3 * MIN_FLOOR_SAMPLES)
    # When one more takes 300 ms, Then the next waits a whole slot after the reply
    assert await next_send_after(pacer, clock, 0.3) == pytest.approx(0.3 + SLOT_S + MARGIN_S)


async def test_a_throttle_reply_backs_off_and_the_back_off_decays() -> None:
    # Given a warmed-up key that meets a throttle reply asking for one second
    clock = FakeClock()
    pacer = pacer_for(clock)
    await warm(pacer, clock, 0.3, MIN_FLOOR_SAMPLES)
    pacer.defer("k", 1.0)
    # When its next requests go, Then each waits its back-off on top of the credit
    assert pacer.backoff_s("k") == pytest.approx(BACKOFF_STEP_S)
    gap_s = await next_send_after(pacer, clock, 0.3)
    assert SLOT_S + MARGIN_S < gap_s <= SLOT_S + MARGIN_S + BACKOFF_STEP_S
    # And after many replies with no throttle, the back-off has mostly gone
    await warm(pacer, clock, 0.3, 2000)
    assert pacer.backoff_s("k") < BACKOFF_STEP_S / 4


async def test_a_request_without_reply_waits_a_whole_slot_from_its_failure() -> None:
    # Given a warmed-up key whose next request fails without a reply after 2 s
    clock = FakeClock()
    pacer = pacer_for(clock)
    await warm(pacer, clock, 0.3, MIN_FLOOR_SAMPLES)
    with pytest.raises(ConnectionError):
        async with pacer.slot("k"):
            clock.now += 2.0
            raise ConnectionError
    failed_at = clock.now
    # When the next request asks, Then it waits a whole slot from the failure
    await take(pacer, "k")
    assert clock.now == pytest.approx(failed_at + SLOT_S + MARGIN_S)


async def test_the_floor_follows_a_network_that_got_slower() -> None:
    # Given a key whose round trips took 100 ms, then 300 ms for two windows
    clock = FakeClock()
    pacer = pacer_for(clock)
    await warm(pacer, clock, 0.1, FLOOR_WINDOW)
    await warm(pacer, clock, 0.3, 2 * FLOOR_WINDOW)
    # When one more takes 300 ms, Then the 300 ms are the floor: the next goes a slot after
    # the send
    assert await next_send_after(pacer, clock, 0.3) == pytest.approx(SLOT_S + MARGIN_S)


class Reading(StrEnum):
    STARTS = "starts"
    REPLIES = "replies"


@dataclass
class FakeOpenDental:
    """One key's throttle as the simulator runs it, with legs drawn per request."""

    reading: Reading
    leg_s: float  # each leg's fixed time
    jitter_s: float  # each leg's uniform jitter
    handling_s: float
    rng: random.Random
    last_start_at: float = -math.inf
    last_reply_at: float = -math.inf
    starts: list[float] = field(default_factory=list)

    def answer(self, sent_at: float) -> tuple[bool, float]:
        """Whether the request sent at ``sent_at`` passes, and when its reply arrives."""
        registered_at = sent_at + self.leg_s + self.rng.random() * self.jitter_s
        since = self.last_start_at if self.reading is Reading.STARTS else self.last_reply_at
        passed = registered_at >= since + SLOT_S
        replied_at = registered_at + (self.handling_s if passed else 0.0)
        if passed:
            self.last_start_at, self.last_reply_at = registered_at, replied_at
            self.starts.append(registered_at)
        return passed, replied_at + self.leg_s + self.rng.random() * self.jitter_s


async def run_key(
    pacing: Pacing, od: FakeOpenDental, requests: int, warm_up: int
) -> tuple[int, float]:
    """Send ``requests`` through the pacer to ``od`` (a throttled one asks for 1 s); the
    throttle replies after the first ``warm_up`` requests, and the mean gap between starts."""
    clock = FakeClock()
    pacer = pacer_for(clock, pacing)
    throttled_after_warm_up = 0
    for n in range(requests):
        async with pacer.slot("k"):
            passed, clock.now = od.answer(clock.now)
        if not passed:
            pacer.defer("k", 1.0)
            throttled_after_warm_up += n >= warm_up
    gaps = [b - a for a, b in zip(od.starts, od.starts[1:], strict=False)]
    return throttled_after_warm_up, sum(gaps) / len(gaps)


@pytest.mark.parametrize("reading", list(Reading))
@pytest.mark.parametrize(("leg_s", "jitter_s"), [(0.125, 0.05), (0.01, 0.0)])
async def test_under_either_reading_throttle_replies_die_out_and_the_gap_shrinks(
    reading: Reading, leg_s: float, jitter_s: float
) -> None:
    # Given a fake Open Dental throttling by the reading, with round trips of 300 ± 50 ms or of
    # 20 ms, the office spending 15 ms on each request
    def open_dental() -> FakeOpenDental:
        return FakeOpenDental(reading=reading, leg_s=leg_s, jitter_s=jitter_s,
                              handling_s=0.015, rng=random.Random(21))

    # When one key sends 2,000 requests back to back with either pacing
    adaptive = await run_key(Pacing.ADAPTIVE, open_dental(), 2000, warm_up=200)
    from_replies = await run_key(Pacing.REPLIES, open_dental(), 2000, warm_up=200)

    # Then after the warm-up at most one request in 200 meets a throttle reply (the replies
    # pacing meets none), and its starts are closer together than the replies pacing's
    throttled, gap_s = adaptive
    assert throttled <= 1800 / 200
    assert from_replies[0] == 0
    assert SLOT_S <= gap_s < from_replies[1]


async def test_the_back_off_is_reported_per_office_until_it_is_gone() -> None:
    # Given a warmed-up key whose back-off moves are reported
    clock = FakeClock()
    reported: list[tuple[str, float]] = []
    pacer = KeyPacer(clock=clock, sleep=clock.sleep,
                     on_backoff=lambda office_id, s: reported.append((office_id, s)))
    pacer.register(office("k", ApiMode.REMOTE))
    await warm(pacer, clock, 0.3, MIN_FLOOR_SAMPLES)
    assert reported == []
    # When it meets a throttle reply, Then its office's back-off is reported
    pacer.defer("k", 1.0)
    assert reported == [("office-k", pytest.approx(BACKOFF_STEP_S))]
    # And when enough replies came without one, the last report is no back-off, and no more
    # come after it
    await warm(pacer, clock, 0.3, 5000)
    assert reported[-1] == ("office-k", 0.0)
    count = len(reported)
    await warm(pacer, clock, 0.3, 10)
    assert len(reported) == count
