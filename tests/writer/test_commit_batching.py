"""Commit batching: only a lane whose customer key Open Dental throttles lets its ledger units
wait for company; the others' go out at once."""

from __future__ import annotations

from hub.settings import ApiMode
from hub.writer.pipeline import THROTTLED_BATCHING_S, CommitBatching
from tests.opendental.test_pacer import office


def test_only_throttled_offices_units_wait_for_company() -> None:
    # Given offices in each mode, one of them remote with a read-only key
    batching = CommitBatching.of_offices([
        office("remote", ApiMode.REMOTE),
        office("reader", ApiMode.REMOTE, read_only=True),
        office("service", ApiMode.SERVICE),
        office("local", ApiMode.LOCAL),
    ])
    # Then the remote offices' units may wait, the others' and an unknown office's may not
    assert batching.seconds("office-remote") == THROTTLED_BATCHING_S > 0
    assert batching.seconds("office-reader") == THROTTLED_BATCHING_S
    assert batching.seconds("office-service") == 0.0
    assert batching.seconds("office-local") == 0.0
    assert batching.seconds("office-unknown") == 0.0
    assert batching.seconds(None) == 0.0
