"""KeyPacer on a fake clock: intervals per mode, FIFO per key, the reply rule (before the floor of
the round trips is known; test_adaptive_pacing.py goes on from there), defer, and no state when
idle."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from pydantic import SecretStr

from hub.opendental.office import OfficeApi
from hub.opendental.pacer import KeyPacer, min_interval_s
from hub.settings import ApiMode

MARGIN_S = 0.05


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other callers run, as a real sleep would


def office(key: str, mode: ApiMode, *, read_only: bool = False) -> OfficeApi:
    return OfficeApi(
        office_id=f"office-{key}",
        base_url="http://127.0.0.1:1/api/v1",
        developer_key=SecretStr("dev"),
        customer_key=SecretStr(key),
        mode=mode,
        read_only=read_only,
    )


async def take(
    pacer: KeyPacer, key: str, *, runs_s: float = 0.0, clock: FakeClock | None = None
) -> float:
    """Take a slot for a request that runs ``runs_s`` (on ``clock``) and return the wait."""
    async with pacer.slot(key) as waited_s:
        if clock is not None:
            clock.now += runs_s
    return waited_s


def pacer_for(clock: FakeClock, *offices: OfficeApi) -> KeyPacer:
    pacer = KeyPacer(safety_margin_s=MARGIN_S, clock=clock, sleep=clock.sleep)
    for each in offices:
        pacer.register(each)
    return pacer


@pytest.mark.parametrize(
    ("mode", "read_only", "expected_s"),
    [
        (ApiMode.REMOTE, False, 1.0 + MARGIN_S),
        (ApiMode.REMOTE, True, 5.0 + MARGIN_S),
        (ApiMode.SERVICE, False, 0.0),
        (ApiMode.SERVICE, True, 0.0),
        (ApiMode.LOCAL, False, 0.0),
    ],
)
def test_min_interval_follows_mode_and_key_rights(
    mode: ApiMode, read_only: bool, expected_s: float
) -> None:
    # Given a mode and key rights, When the interval is computed, Then it is Open Dental's slot
    # plus the margin in remote mode and nothing elsewhere.
    assert min_interval_s(mode, read_only=read_only, safety_margin_s=MARGIN_S) == expected_s


async def test_remote_key_waits_out_its_slot_between_request_starts() -> None:
    # Given a remote key
    clock = FakeClock()
    pacer = pacer_for(clock, office("k", ApiMode.REMOTE))
    # When three requests ask for slots back to back
    waits = [await take(pacer, "k") for _ in range(3)]
    # Then the first goes at once and each next one waits a full slot
    assert waits == [0.0, pytest.approx(1.0 + MARGIN_S), pytest.approx(1.0 + MARGIN_S)]


async def test_time_already_spent_counts_toward_the_slot() -> None:
    # Given a remote key whose last request started 0.7 s ago
    clock = FakeClock()
    pacer = pacer_for(clock, office("k", ApiMode.REMOTE))
    await take(pacer, "k")
    clock.now += 0.7
    # When the next request asks
    waited_s = await take(pacer, "k")
    # Then it waits only what is left of the slot
    assert waited_s == pytest.approx(0.3 + MARGIN_S)


async def test_read_only_remote_key_waits_five_seconds() -> None:
    # Given a ReadAll-only remote key that just sent a request
    clock = FakeClock()
    pacer = pacer_for(clock, office("ro", ApiMode.REMOTE, read_only=True))
    await take(pacer, "ro")
    # When the next request asks, Then it waits the 5 s slot
    assert await take(pacer, "ro") == pytest.approx(5.0 + MARGIN_S)


@pytest.mark.parametrize("mode", [ApiMode.SERVICE, ApiMode.LOCAL])
async def test_service_and_local_keys_never_wait(mode: ApiMode) -> None:
    # Given an unthrottled key
    clock = FakeClock()
    pacer = pacer_for(clock, office("s", mode))
    # When many requests ask at the same instant
    waits = [await take(pacer, "s") for _ in range(20)]
    # Then none waits and nothing sleeps
    assert waits == [0.0] * 20
    assert clock.sleeps == []


async def test_keys_are_paced_independently() -> None:
    # Given two remote keys, one of which just sent a request
    clock = FakeClock()
    pacer = pacer_for(clock, office("a", ApiMode.REMOTE), office("b", ApiMode.REMOTE))
    await take(pacer, "a")
    # When the other key asks, Then it does not wait for the first key's slot
    assert await take(pacer, "b") == 0.0


async def test_concurrent_callers_on_one_key_go_one_at_a_time_in_order() -> None:
    # Given a remote key and five callers arriving together
    clock = FakeClock()
    pacer = pacer_for(clock, office("k", ApiMode.REMOTE))
    started: list[tuple[int, float]] = []

    async def caller(n: int) -> None:
        await take(pacer, "k")
        started.append((n, clock.now))

    # When they all wait for slots
    await asyncio.gather(*(caller(n) for n in range(5)))
    # Then they start in arrival order, one slot apart
    assert [n for n, _ in started] == [0, 1, 2, 3, 4]
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(started)]
    assert gaps == [pytest.approx(1.0 + MARGIN_S)] * 4


async def test_defer_pushes_the_next_slot_out() -> None:
    # Given a remote key that was just told to come back in 7 s
    clock = FakeClock()
    pacer = pacer_for(clock, office("k", ApiMode.REMOTE))
    await take(pacer, "k")
    pacer.defer("k", 7.0)
    # When the next request asks, Then it waits the 7 s, not the 1 s slot
    assert await take(pacer, "k") == pytest.approx(7.0)


async def test_defer_reaches_a_caller_already_waiting() -> None:
    # Given a caller already waiting for the key's next slot
    clock = FakeClock()
    pacer = pacer_for(clock, office("k", ApiMode.REMOTE))
    await take(pacer, "k")
    waiting = asyncio.create_task(take(pacer, "k"))
    await asyncio.sleep(0)
    # When a throttle reply defers the key by 4 s from now
    pacer.defer("k", 4.0)
    # Then the waiting caller starts no earlier than the deferred time
    assert await waiting >= 4.0


async def test_defer_never_pulls_a_slot_in() -> None:
    # Given a read-only remote key whose next slot is 5 s away
    clock = FakeClock()
    pacer = pacer_for(clock, office("ro", ApiMode.REMOTE, read_only=True))
    await take(pacer, "ro")
    # When a shorter deferral arrives
    pacer.defer("ro", 1.0)
    # Then the longer wait stands
    assert await take(pacer, "ro") == pytest.approx(5.0 + MARGIN_S)


async def test_defer_applies_to_unthrottled_keys_too() -> None:
    # Given a service-mode key that was told to back off (Open Dental is the judge of that)
    clock = FakeClock()
    pacer = pacer_for(clock, office("s", ApiMode.SERVICE))
    pacer.defer("s", 2.0)
    # When a request asks, Then it waits the deferral
    assert await take(pacer, "s") == pytest.approx(2.0)


async def test_idle_keys_keep_no_queue() -> None:
    # Given a thousand remote keys that each sent one request and went idle
    clock = FakeClock()
    offices = [office(f"k{n}", ApiMode.REMOTE) for n in range(1000)]
    pacer = pacer_for(clock, *offices)
    for each in offices:
        await take(pacer, each.customer_key.get_secret_value())
    # When nobody is waiting, Then no per-key queue (lock) is left behind
    assert pacer.busy_keys == 0


async def test_a_cancelled_waiter_leaves_the_queue_usable() -> None:
    # Given a caller waiting for a slot that is then cancelled
    clock = FakeClock()
    pacer = pacer_for(clock, office("k", ApiMode.REMOTE))
    await take(pacer, "k")
    waiting = asyncio.create_task(take(pacer, "k"))
    await asyncio.sleep(0)
    assert pacer.busy_keys == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # When another caller asks, Then it gets a slot and no queue is left behind
    await take(pacer, "k")
    assert pacer.busy_keys == 0


async def test_the_strictest_registration_of_a_key_wins() -> None:
    # Given one customer key registered for a service office and a read-only remote one
    clock = FakeClock()
    pacer = pacer_for(
        clock, office("k", ApiMode.REMOTE, read_only=True), office("k", ApiMode.SERVICE)
    )
    await take(pacer, "k")
    # When the next request asks, Then it waits the read-only remote slot
    assert await take(pacer, "k") == pytest.approx(5.0 + MARGIN_S)


async def test_an_unregistered_key_is_refused() -> None:
    # Given a pacer that never heard of a key, When it is asked for a slot, Then it refuses
    pacer = pacer_for(FakeClock())
    with pytest.raises(LookupError):
        await take(pacer, "unknown")


async def test_a_slow_reply_delays_the_next_request_a_whole_slot() -> None:
    # Given a remote key whose request took 0.4 s to come back (Open Dental may have registered
    # it just before replying)
    clock = FakeClock()
    pacer = pacer_for(clock, office("k", ApiMode.REMOTE))
    sent_at = clock.now
    await take(pacer, "k", runs_s=0.4, clock=clock)
    # When the next request asks
    await take(pacer, "k")
    # Then it starts a whole slot (and the margin) after the reply, not after the send
    assert clock.now == pytest.approx(sent_at + 0.4 + 1.0 + MARGIN_S)


async def test_the_slot_is_held_until_the_reply() -> None:
    # Given one key shared by two callers, the first of which is still waiting for its reply
    # well past a slot
    clock = FakeClock()
    pacer = pacer_for(clock, office("k", ApiMode.REMOTE))
    replied = asyncio.Event()
    second_started_at: list[float] = []

    async def first() -> None:
        async with pacer.slot("k"):
            await replied.wait()

    async def second() -> None:
        await take(pacer, "k")
        second_started_at.append(clock.now)

    first_task = asyncio.create_task(first())
    await asyncio.sleep(0)
    second_task = asyncio.create_task(second())
    clock.now += 3.0
    for _ in range(5):
        await asyncio.sleep(0)
    # When the first request is still out, Then the second has not started
    assert second_started_at == []
    # When the reply comes, Then the second starts a whole slot later
    replied_at = clock.now
    replied.set()
    await asyncio.gather(first_task, second_task)
    assert second_started_at == [pytest.approx(replied_at + 1.0 + MARGIN_S)]


async def test_a_service_key_holds_nothing_while_its_request_runs() -> None:
    # Given a service-mode key with a request in flight
    clock = FakeClock()
    pacer = pacer_for(clock, office("s", ApiMode.SERVICE))
    async with pacer.slot("s"):
        # When another request asks, Then it goes at once
        assert await take(pacer, "s") == 0.0
    assert clock.sleeps == []
