"""The outage run's accounting, from explicit data: order per office and vendor by the ledger's
finishes, the held offices' work, the steady offices' pace, a vendor's missing outcomes, and
what the broker did by itself (its dead letters, its consumer timeouts in its log)."""

from __future__ import annotations

from collections.abc import Sequence

from aio_pika.abc import FieldValue

from hub import names
from hub.dlq import DeadLetter, Source
from lab.chaos.accounting import End, Ended
from lab.chaos.dead_letters import dead_lettered_by_broker
from lab.chaos.order import publish_order
from lab.chaos.outage.accounting import (
    Applied,
    delivery,
    held,
    not_applied,
    out_of_order,
    steady_rates,
)
from lab.chaos.outage.broker_log import count_consumer_timeouts
from lab.chaos.outage.timeline import Disruption, Timeline, Window
from lab.chaos.plan import APPLIED, Planned
from lab.chaos.publishing import Sent


def _planned(vendor: str, office: str, key: str, expect: str = APPLIED) -> Planned:
    return Planned(vendor=vendor, office=office, contract="patient.create", key=key, body=b"{}",
                   expect=expect)


def _ended(planned: Planned, status: str = "applied", reason: str | None = None) -> Ended:
    return Ended(planned=planned, end=End(status=status, reason=reason), in_dlq=False,
                 with_row=status == "applied")


def _stream(vendor: str, office: str, count: int) -> list[Planned]:
    return [_planned(vendor, office, f"{vendor}-{office}-{n}") for n in range(count)]


def test_an_intent_applied_after_a_later_published_one_is_out_of_order() -> None:
    # Given two vendors' streams to one office, the first applied 0, 2, 1, 3 (a tie at 2 s
    # broken by the ledger's id), the second in order with its last never applied
    first, second = _stream("v1", "o1", 4), _stream("v2", "o1", 3)
    sent = [Sent(planned=p, confirmed=True) for p in (*first, *second)]
    applied = {
        ("v1", first[0].key): Applied(at_s=1.0, row_id=1),
        ("v1", first[2].key): Applied(at_s=2.0, row_id=2),
        ("v1", first[1].key): Applied(at_s=2.0, row_id=3),
        ("v1", first[3].key): Applied(at_s=3.0, row_id=4),
        ("v2", second[0].key): Applied(at_s=1.5, row_id=5),
        ("v2", second[1].key): Applied(at_s=2.5, row_id=6),
    }
    # When the order is judged
    result = out_of_order(publish_order(sent), applied)
    # Then only the first vendor's second intent was overtaken
    assert dict(result) == {"o1": 1}


def test_the_publish_order_is_the_first_confirmed_send_of_each_key() -> None:
    # Given a stream whose first send was not confirmed, then confirmed, then re-sent
    a, b = _stream("v1", "o1", 2)
    sent = [Sent(planned=a, confirmed=False), Sent(planned=b, confirmed=True),
            Sent(planned=a, confirmed=True), Sent(planned=b, confirmed=True)]
    # When the publish order is read
    order = publish_order(sent)
    # Then each key appears once, where the broker first took it
    assert order == {("v1", "o1"): [b.key, a.key]}


def test_a_held_office_is_whole_only_when_every_intent_meant_to_apply_did() -> None:
    # Given an office down from 10 s to 30 s: two applied (one before, one after), one the
    # broker dead-lettered, and one refusal that was never meant to apply
    steps = [*_stream("v1", "o1", 3), _planned("v1", "o1", "bad", expect="rejected:invalid")]
    ended = [_ended(steps[0]), _ended(steps[1]), _ended(steps[2], "dead", "delivery_limit"),
             _ended(steps[3], "rejected", "invalid")]
    applied = {("v1", steps[0].key): Applied(at_s=5.0, row_id=1),
               ("v1", steps[1].key): Applied(at_s=31.0, row_id=2)}
    # When its held work is judged, with a consumer timeout of 4 s
    result = held("o1", "econnector_down", Window(start_s=10.0, end_s=30.0), ended, applied, 4.0)
    # Then three were meant to apply, two did (one after its return), and it is not whole
    assert (result.published, result.to_apply, result.applied, result.applied_after) == (4, 3, 2, 1)
    assert result.timeouts == 5.0
    assert dict(result.not_applied) == {"dead:delivery_limit": 1}
    assert not result.all_applied


def test_the_steady_offices_intents_that_did_not_apply_are_counted_by_end() -> None:
    # Given a steady office's three intents (one applied, one dead-lettered by the broker, one
    # refusal never meant to apply) and a held office's dead one
    steady = _stream("v1", "steady", 2)
    refusal = _planned("v1", "steady", "bad", expect="rejected:invalid")
    held_one = _planned("v1", "o1", "held")
    ended = [_ended(steady[0]), _ended(steady[1], "dead", "delivery_limit"),
             _ended(refusal, "rejected", "invalid"), _ended(held_one, "dead", "delivery_limit")]
    # When the steady office's are counted
    # Then only its dead-lettered intent is
    assert dict(not_applied(ended, {"steady"})) == {"dead:delivery_limit": 1}


def _timeline(steady: tuple[str, ...]) -> Timeline:
    outage = Window(start_s=20.0, end_s=60.0)
    return Timeline(
        disrupted={"o1": (Disruption.CONNECTION_REFUSED, outage)}, steady=steady,
        paused_vendor="paused", vendor_pause=Window(start_s=25.0, end_s=50.0),
        queue_vendor="v1", queue_gone=Window(start_s=25.0, end_s=60.0), publish_s=70.0,
    )


def _applied_at(steps: Sequence[Planned], times: Sequence[float]) -> dict[tuple[str, str],
                                                                          Applied]:
    return {(p.vendor, p.key): Applied(at_s=t, row_id=n)
            for n, (p, t) in enumerate(zip(steps, times, strict=True))}


def test_the_steady_rate_compares_the_outages_with_before_them() -> None:
    # Given a steady office that applied one intent a second before the outages (0-20 s) and
    # one every two seconds during them (20-60 s), with a stall from 40 s to 50 s; and the
    # paused vendor's and a disrupted office's intents, which do not count
    before = [float(t) for t in range(20)]
    during = [t for t in range(20, 60, 2) if not 40 <= t < 50]
    steady = _stream("v1", "steady", len(before) + len(during))
    others = _stream("paused", "steady", 30) + _stream("v1", "o1", 30)
    ended = [_ended(p) for p in (*steady, *others)]
    applied = {**_applied_at(steady, before + [float(t) for t in during]),
               **_applied_at(others, [float(t) for t in range(60)])}
    # When the rates are read
    rates = steady_rates(_timeline(("steady",)), ended, applied)
    # Then before is 1/s, during 15 in 40 s, and the slowest 10 s slice applied nothing
    assert (rates.before_applied, rates.during_applied) == (20, 15)
    assert rates.before_per_s == 1.0 and rates.during_per_s == 15 / 40
    assert rates.ratio == 15 / 40
    assert rates.slowest_slice_ratio == 0.0


def test_a_vendor_is_missing_the_outcomes_of_decided_intents_it_never_received() -> None:
    # Given a vendor's four intents: two applied, one rejected before the ledger (a writer's dead
    # letter), one still in flight; and another vendor's applied intent
    mine = _stream("v1", "o1", 4)
    other = _planned("v2", "o1", "theirs")
    ended = [_ended(mine[0]), _ended(mine[1]), _ended(mine[2], "rejected", "invalid"),
             _ended(mine[3], "lost"), _ended(other)]
    statuses = {("v1", mine[0].key): "applied", ("v1", mine[1].key): "applied",
                ("v1", mine[3].key): "received", ("v2", "theirs"): "applied"}
    # When it received outcomes for its first intent and the refused one
    result = delivery("v1", ended, statuses, {mine[0].key, mine[2].key})
    # Then three were decided, and the second applied one is missing
    assert (result.decided, result.received, result.missing) == (3, 2, (mine[1].key,))


def _letter(headers: dict[str, FieldValue]) -> DeadLetter:
    death = "x-death" in headers
    return DeadLetter(
        position=0, source=Source.BROKER if death else Source.WRITER, message_id="m",
        idempotency_key="k", vendor="v1", office="o1", contract="patient.create",
        reason="delivery_limit", dead_lettered_at=None, attempts=None, routing_key="dead.o1",
        properties={}, headers=headers, body=b"",
    )


def test_only_the_brokers_own_dead_letters_count_as_the_brokers() -> None:
    # Given a broker's dead letter (x-death only), a writer's (its reason header), and one a
    # writer dead-lettered by rejecting (x-death and its reason)
    death: list[FieldValue] = [{"reason": "delivery_limit", "queue": "hub.office.o1"}]
    by_broker = _letter({"x-death": death})
    by_writer = _letter({names.HEADER_REASON: "invalid"})
    by_writer_reject = _letter({"x-death": death, names.HEADER_REASON: "retries_exhausted"})
    # When each is judged
    judged = [dead_lettered_by_broker(x) for x in (by_broker, by_writer, by_writer_reject)]
    # Then only the first is the broker's own
    assert judged == [True, False, False]


def test_the_node_log_counts_each_consumer_timeout_once() -> None:
    # Given RabbitMQ 3.10.8's two lines per timeout (a warning, then the channel's error), twice
    log = "\n".join(
        f"2026-01-01 00:00:0{n}.000+00:00 [warning] <0.807.0> Consumer 1 on channel 2 has timed "
        "out waiting for delivery acknowledgement. Timeout used: 4000 ms.\n"
        f"2026-01-01 00:00:0{n}.001+00:00 [error] <0.807.0> operation none caused a channel "
        "exception precondition_failed: delivery acknowledgement on channel 2 timed out. "
        "Timeout value used: 4000 ms."
        for n in (1, 5)
    )
    # When the timeouts are counted
    # Then there are two
    assert count_consumer_timeouts(log) == 2
