"""What the outages did to the hub's work, pure, from the ledger's finishes, the run's publish
order, the timeline as it happened and the common accounting's ends; never from counters.

- ``out_of_order``: per office and vendor, an applied intent counts when an intent the vendor
  published later to the same office was applied before it (the ledger's finish order).
- per disrupted office (and the paused vendor): whether every intent meant to be applied was,
  and how many of those were applied only after it came back.
- the steady offices' applied rate (the paused vendor's intents aside: the broker refuses them
  on purpose) during the outages vs before them, and in the slowest slice of the outages; and
  their intents meant to apply that did not (another office's hold must never cost them).
- the vendor whose outcome queue was deleted: its decided intents it never got an outcome for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from hub.ledger.models import TERMINAL_STATUSES
from lab.chaos.accounting import Ended
from lab.chaos.ledger_rows import VendorKey
from lab.chaos.order import Stream
from lab.chaos.outage.timeline import Timeline, Window
from lab.chaos.plan import APPLIED

SLICE_S = 10.0  # the steady offices' rate is also read slice by slice, to show a stall


@dataclass(frozen=True, kw_only=True)
class Applied:
    """An intent the ledger applied, as it ordered the finishes."""

    at_s: float  # finished, seconds from the start of publishing
    row_id: int


def _overtaken(positions: Sequence[int]) -> int:
    """Entries that come after a greater one: intents applied after a later-published one."""
    count, highest = 0, -1
    for position in positions:
        if position < highest:
            count += 1
        highest = max(highest, position)
    return count


def out_of_order(
    order: Mapping[Stream, Sequence[str]], applied: Mapping[VendorKey, Applied]
) -> Counter[str]:
    """Per office, applied intents that a later-published intent of their vendor overtook."""
    by_office: Counter[str] = Counter()
    for (vendor, office), keys in order.items():
        done = [(applied[(vendor, key)], index) for index, key in enumerate(keys)
                if (vendor, key) in applied]
        done.sort(key=lambda pair: (pair[0].at_s, pair[0].row_id))
        overtaken = _overtaken([index for _, index in done])
        if overtaken:
            by_office[office] += overtaken
    return by_office


@dataclass(frozen=True, kw_only=True)
class Held:
    """An office or vendor kept from its work for a while, and what became of its intents."""

    name: str
    disruption: str
    window: Window
    timeouts: float  # the window in consumer timeouts
    published: int
    to_apply: int  # meant to be applied
    applied: int  # of those
    applied_after: int  # of those, finished after the window
    not_applied: Counter[str]  # the others, by how they ended

    @property
    def all_applied(self) -> bool:
        return self.applied == self.to_apply


def held(
    name: str, disruption: str, window: Window, ended: Iterable[Ended],
    applied: Mapping[VendorKey, Applied], consumer_timeout_s: float,
) -> Held:
    """What became of ``ended`` (the intents of one office or vendor) held over ``window``."""
    ended = list(ended)
    meant = [e for e in ended if e.planned.expect == APPLIED]
    done = [e for e in meant if e.end.status == "applied"]
    after = [e for e in done if (a := applied.get((e.planned.vendor, e.planned.key)))
             and a.at_s >= window.end_s]
    return Held(
        name=name, disruption=disruption, window=window,
        timeouts=window.length_s / consumer_timeout_s, published=len(ended),
        to_apply=len(meant), applied=len(done), applied_after=len(after),
        not_applied=Counter(e.end.label for e in meant if e.end.status != "applied"),
    )


def held_all(
    timeline: Timeline, ended: Sequence[Ended], applied: Mapping[VendorKey, Applied],
    consumer_timeout_s: float,
) -> list[Held]:
    """Every disrupted office, then the paused vendor."""
    offices = [
        held(office, kind.value, window, (e for e in ended if e.planned.office == office),
             applied, consumer_timeout_s)
        for office, (kind, window) in timeline.disrupted.items()
    ]
    vendor = timeline.paused_vendor
    return [*offices, held(vendor, "vendor_paused", timeline.vendor_pause,
                           (e for e in ended if e.planned.vendor == vendor), applied,
                           consumer_timeout_s)]


@dataclass(frozen=True, kw_only=True)
class Rates:
    offices: tuple[str, ...]
    before: Window
    during: Window
    before_applied: int
    during_applied: int
    slowest_slice: int | None  # applied in the slowest whole slice of the outages

    def _per_s(self, applied: int, window: Window) -> float:
        return applied / window.length_s if window.length_s > 0 else 0.0

    @property
    def before_per_s(self) -> float:
        return self._per_s(self.before_applied, self.before)

    @property
    def during_per_s(self) -> float:
        return self._per_s(self.during_applied, self.during)

    @property
    def ratio(self) -> float | None:
        before = self.before_per_s
        return None if before == 0 else self.during_per_s / before

    @property
    def slowest_slice_ratio(self) -> float | None:
        before = self.before_per_s
        if before == 0 or self.slowest_slice is None:
            return None
        return self.slowest_slice / SLICE_S / before


def _count_in(times: Sequence[float], start_s: float, end_s: float) -> int:
    return sum(1 for t in times if start_s <= t < end_s)


def steady_rates(
    timeline: Timeline, ended: Sequence[Ended], applied: Mapping[VendorKey, Applied]
) -> Rates:
    steady = set(timeline.steady)
    times = sorted(
        a.at_s for e in ended
        if e.planned.office in steady and e.planned.vendor != timeline.paused_vendor
        and (a := applied.get((e.planned.vendor, e.planned.key))) is not None
    )
    during = timeline.outage_span()
    before = Window(start_s=0.0, end_s=during.start_s)
    slices = int(during.length_s // SLICE_S)
    counts = [_count_in(times, during.start_s + i * SLICE_S, during.start_s + (i + 1) * SLICE_S)
              for i in range(slices)]
    return Rates(
        offices=timeline.steady, before=before, during=during,
        before_applied=_count_in(times, before.start_s, before.end_s),
        during_applied=_count_in(times, during.start_s, during.end_s),
        slowest_slice=min(counts) if counts else None,
    )


def not_applied(ended: Iterable[Ended], offices: Collection[str]) -> Counter[str]:
    """The intents to ``offices`` meant to apply that did not, by how they ended."""
    return Counter(e.end.label for e in ended if e.planned.office in offices
                   and e.planned.expect == APPLIED and e.end.status != "applied")


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """The outcome events a vendor received vs the intents of its the hub decided."""

    vendor: str
    decided: int
    received: int  # of those
    missing: tuple[str, ...]  # decided, never told (idempotency keys)


def delivery(
    vendor: str, ended: Sequence[Ended], statuses: Mapping[VendorKey, str],
    received: Collection[str],
) -> Delivery:
    """``statuses``: the ledger's status of each intent it knows; an intent refused before the
    ledger (a writer's dead letter, no ledger entry) is decided too."""
    decided = [
        e.planned.key for e in ended if e.planned.vendor == vendor
        and (statuses.get((vendor, e.planned.key)) in TERMINAL_STATUSES
             or ((vendor, e.planned.key) not in statuses and e.end.status == "rejected"))
    ]
    missing = tuple(key for key in decided if key not in received)
    return Delivery(vendor=vendor, decided=len(decided), received=len(decided) - len(missing),
                    missing=missing)
