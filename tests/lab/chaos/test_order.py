"""Order within an office, from explicit data: an applied intent counts when an intent of its
stream published before it was applied after it; a re-send is the same intent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lab.chaos.ledger_rows import Finish
from lab.chaos.order import overtakers, publish_order
from lab.chaos.plan import Planned
from lab.chaos.publishing import Sent

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _sent(vendor: str, office: str, key: str, *, resend: bool = False) -> Sent:
    planned = Planned(vendor=vendor, office=office, contract="patient.create", key=key,
                      body=b"{}", expect="applied", resend=resend)
    return Sent(planned=planned, confirmed=True)


def _applied(office: str, at_s: float, row_id: int, status: str = "applied") -> Finish:
    return Finish(office=office, status=status, finished_at=T0 + timedelta(seconds=at_s),
                  row_id=row_id)


def test_an_intent_applied_before_one_published_earlier_counts_once() -> None:
    # Given a stream a, b, c to office o1 whose c was applied before b
    sent = [_sent("v1", "o1", key) for key in ("a", "b", "c")]
    ledger = {("v1", "a"): _applied("o1", 1.0, 1), ("v1", "b"): _applied("o1", 3.0, 2),
              ("v1", "c"): _applied("o1", 2.0, 3)}
    # When the order is judged
    result = overtakers(publish_order(sent), ledger)
    # Then c, the intent that overtook, is counted, and only c
    assert dict(result) == {"o1": 1}


def test_in_order_streams_a_resend_and_other_vendors_count_nothing() -> None:
    # Given two vendors' streams to one office, each applied in its order, interleaved with each
    # other (no order is promised between vendors), with an exact re-send of an applied key and
    # a rejected intent finished late
    sent = [_sent("v1", "o1", "a"), _sent("v2", "o1", "x"), _sent("v1", "o1", "b"),
            _sent("v1", "o1", "a", resend=True), _sent("v2", "o1", "y"), _sent("v1", "o1", "r"),
            _sent("v1", "o1", "c")]
    ledger = {("v2", "x"): _applied("o1", 0.5, 1), ("v1", "a"): _applied("o1", 1.0, 2),
              ("v2", "y"): _applied("o1", 1.5, 3), ("v1", "b"): _applied("o1", 2.0, 4),
              ("v1", "r"): _applied("o1", 9.0, 5, status="rejected"),
              ("v1", "c"): _applied("o1", 3.0, 6)}
    # When the order is judged
    result = overtakers(publish_order(sent), ledger)
    # Then nothing is out of order: the re-send is the same intent, the rejected one applied
    # nothing, and v2's intents are judged against v2's alone
    assert dict(result) == {}


def test_a_tie_in_finish_time_is_broken_by_the_ledger_s_claim_order() -> None:
    sent = [_sent("v1", "o1", "a"), _sent("v1", "o1", "b")]
    ledger = {("v1", "a"): _applied("o1", 1.0, 7), ("v1", "b"): _applied("o1", 1.0, 6)}
    assert dict(overtakers(publish_order(sent), ledger)) == {"o1": 1}
