"""When a change of the fleet has settled, from explicit data: every office with exactly one
active consumer on a live writer, the live writers' shares within one; and the figures the
report gives from the changes."""

from __future__ import annotations

from lab.chaos.spread import Settled, SpreadFigures, spread, unsettled_by, writer_pid


def test_an_even_spread_over_the_live_writers_is_settled() -> None:
    active = {"o1": [11], "o2": [12], "o3": [13], "o4": [11], "o5": [12]}
    assert spread(active, {11, 12, 13}) == (2, 1)


def test_a_spread_is_not_settled_while_anything_is_off() -> None:
    live = {11, 12}
    # An office without a consumer, or with two active at once
    assert spread({"o1": [11], "o2": []}, live) is None
    assert spread({"o1": [11, 12], "o2": [12]}, live) is None
    # An office still served by a writer that is gone
    assert spread({"o1": [11], "o2": [99]}, live) is None
    # A live writer (a joiner) with none while another has two more
    assert spread({"o1": [11], "o2": [11]}, {11, 12}) is None
    # No live writer at all
    assert spread({"o1": [11]}, set()) is None


def test_an_unsettled_look_says_why() -> None:
    live = {11, 12}
    assert unsettled_by({"o1": [11], "o2": []}, live) == "o2 has 0 active consumers"
    assert unsettled_by({"o1": [11], "o2": [99]}, live) == (
        "o2's active consumer is on writer 99, not live")
    assert unsettled_by({"o1": [11], "o2": [11], "o3": [11]}, live) == (
        "offices per writer 3/0")
    assert unsettled_by({"o1": [11], "o2": [12]}, live) is None


def test_the_process_id_is_read_from_a_writer_s_connection_name() -> None:
    assert writer_pid("hub writer box:4242:a1b2c3") == 4242
    assert writer_pid("hub writer my:host:77:ffffff") == 77
    assert writer_pid("vendor-1") is None


def test_the_figures_take_the_worst_spread_and_the_hand_over_times() -> None:
    # Given 61 offices over three writers, then four after a join
    changes = (
        Settled(at_s=0.0, event="start", writers=3, max=21, min=20, settle_s=2.0),
        Settled(at_s=30.0, event="kill", writers=3, max=21, min=20, settle_s=6.0),
        Settled(at_s=60.0, event="join", writers=4, max=16, min=15, settle_s=4.0),
    )
    figures = SpreadFigures(writers=3, joined=1, changes=changes)
    assert figures.worst() == {3: (21, 20), 4: (16, 15)}
    assert figures.handover_s() == {"p50": 4.0, "max": 6.0}
    assert figures.ok and figures.unsettled == 0
    # A change that never settled fails the run
    never = SpreadFigures(writers=3, joined=0,
                          changes=(*changes, Settled(at_s=90.0, event="node_loss")))
    assert not never.ok and never.unsettled == 1
