"""Which live writer serves which office: a pure function every writer computes alike from the
same list of offices and the same set of live writers (hub/control's watcher reads them).

Rendezvous hashing (highest random weight) ranks the writers for each office by a hash of the
pair, so a writer that joins or dies moves only the offices whose ranking it tops or topped.
Rendezvous alone is uneven (with 12 offices over 3 writers, 6/4/2 is common), so the offices are
handed out by a bounded load: every (office, writer) pair in order of its weight, highest first,
each office to the first writer in that order with room. Room is ``n // w`` offices per writer,
and ``n % w`` writers (the first to reach it) may take one more: every writer ends with the
average rounded down or up, and an office leaves its highest-ranked writer only when that writer
is full of offices that rank it higher still.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Mapping

_MASK_64 = (1 << 64) - 1


def weight(office: str, writer: str) -> int:
    """The pair's random weight: the same in every process and on every machine (Python's own
    ``hash`` of a str is salted per process). Each name is hashed once; the pair's weight mixes
    the two (splitmix64's finaliser), so 10,000 offices by 30 writers cost 300,000 integer
    mixes, not as many digests."""
    return _mix(_name_hash(office) ^ _mix(_name_hash(writer)))


def assign(offices: Iterable[str], writers: Iterable[str]) -> dict[str, str]:
    """Office → the writer that serves it; empty when no writer is live."""
    office_list, writer_list = sorted(set(offices)), sorted(set(writers))
    if not writer_list:
        return {}
    base, extra = divmod(len(office_list), len(writer_list))
    writer_hashes = [(_mix(_name_hash(writer)), writer) for writer in writer_list]
    # Each office's writers, heaviest first; the heap holds each unassigned office's next
    # candidate, so pairs come out in order of weight without sorting all of them.
    ranked: dict[str, list[tuple[int, str]]] = {}
    heap: list[tuple[int, str, int]] = []
    for office in office_list:
        office_hash = _name_hash(office)
        ranked[office] = sorted(
            ((_mix(office_hash ^ mixed), writer) for mixed, writer in writer_hashes),
            reverse=True,
        )
        heap.append((-ranked[office][0][0], office, 0))
    heapq.heapify(heap)
    owners: dict[str, str] = {}
    loads = dict.fromkeys(writer_list, 0)
    while heap:
        _, office, rank = heapq.heappop(heap)
        writer = ranked[office][rank][1]
        if not _has_room(loads[writer], base, extra):
            following = ranked[office][rank + 1][0]  # room remains somewhere: it exists
            heapq.heappush(heap, (-following, office, rank + 1))
            continue
        owners[office] = writer
        loads[writer] += 1
        if loads[writer] == base + 1:
            extra -= 1
    return owners


def _has_room(load: int, base: int, extra: int) -> bool:
    return load < base or (load == base and extra > 0)


def _name_hash(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")


def _mix(value: int) -> int:
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK_64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK_64
    return value ^ (value >> 31)


def served_by(owners: Mapping[str, str], writer: str) -> frozenset[str]:
    return frozenset(office for office, owner in owners.items() if owner == writer)
