"""Freezing the writer's start-up heap: what is alive then is left out of later collections."""

from __future__ import annotations

import gc

from hub.writer.worker import freeze_startup_heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_objects_alive_at_start_up_are_left_out_of_later_collections() -> None:
    # Given a long-lived cycle the collector tracks
    kept = Node()
    kept.other = Node()
    kept.other.other = kept
    assert gc.is_tracked(kept) and any(obj is kept for obj in gc.get_objects())
    try:
        # When the start-up heap is frozen
        frozen = freeze_startup_heap()
        # Then the cycle is in none of the generations a collection walks
        assert frozen == gc.get_freeze_count() > 0
        assert not any(obj is kept for obj in gc.get_objects())
        # And what is made afterwards is collected as before
        later = Node()
        assert any(obj is later for obj in gc.get_objects(generation=0))
    finally:
        gc.unfreeze()  # the test process's heap is not the writer's
