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
from collections.abc import Iterable, Mapping


def weight(office: str, writer: str) -> int:
    """The pair's random weight: the same in every process and on every machine (Python's own
    ``hash`` of a str is salted per process)."""
    digest = hashlib.blake2b(f"{office}\x00{writer}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assign(offices: Iterable[str], writers: Iterable[str]) -> dict[str, str]:
    """Office → the writer that serves it; empty when no writer is live."""
    office_list, writer_list = sorted(set(offices)), sorted(set(writers))
    if not writer_list:
        return {}
    base, extra = divmod(len(office_list), len(writer_list))
    pairs = sorted(
        ((weight(office, writer), office, writer)
         for office in office_list for writer in writer_list),
        reverse=True,
    )
    owners: dict[str, str] = {}
    loads = dict.fromkeys(writer_list, 0)
    for _, office, writer in pairs:
        if office in owners or not _has_room(loads[writer], base, extra):
            continue
        owners[office] = writer
        loads[writer] += 1
        if loads[writer] == base + 1:
            extra -= 1
        if len(owners) == len(office_list):
            break
    return owners


def _has_room(load: int, base: int, extra: int) -> bool:
    return load < base or (load == base and extra > 0)


def served_by(owners: Mapping[str, str], writer: str) -> frozenset[str]:
    return frozenset(office for office, owner in owners.items() if owner == writer)
