"""Percentiles and steady rates, pure."""

from __future__ import annotations

import math
from collections.abc import Sequence

# The steady part of a backlog run: the first and last tenth of the completions are the lanes
# starting and the last lanes finishing alone.
STEADY_LOW = 0.1
STEADY_HIGH = 0.9


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values; 0 when there are none."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def steady_bounds(count: int) -> tuple[int, int]:
    """The completion counts that open and close the steady window (1-based, inclusive)."""
    low = max(1, math.floor(STEADY_LOW * count))
    high = max(low + 1, math.ceil(STEADY_HIGH * count))
    return low, min(high, count)


def steady_rate(times: Sequence[float]) -> float:
    """Completions per second between the steady window's bounds; 0 with too few."""
    ordered = sorted(times)
    low, high = steady_bounds(len(ordered))
    if high <= low:
        return 0.0
    elapsed_s = ordered[high - 1] - ordered[low - 1]
    return (high - low) / elapsed_s if elapsed_s > 0 else 0.0
