"""Where every published intent ended, pure, from the ledger, the dead-letter queue and Open
Dental's tables; never from the run's own counters.

- ``published``: distinct (vendor, idempotency key) the broker confirmed (re-sends counted apart).
- Each ends ``applied``, ``rejected`` or ``dead`` by its terminal ledger status; one refused
  before the ledger claims it (``invalid``, ``unauthorized``) ends ``rejected`` by its dead
  letter from the writer; one the broker dead-lettered past the office queue's delivery limit
  ends ``dead``. Anything else is ``lost``, and so is an applied intent whose effect Open
  Dental does not hold (the created row by its natural key, the update's new Address).
- ``dead_lettered_ok``: every rejected and dead intent sits in ``hub.dead`` with a reason (the
  ledger's, when the ledger has one).
- ``unapplied_with_row``: rejected or dead creates whose row Open Dental holds all the same (the
  vendor was told it did not happen): reported, as the hub's reconciliation should prevent it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub.dlq import Source
from hub.ledger.models import TERMINAL_STATUSES
from lab.chaos.dead_letters import DeadLetters, Letter
from lab.chaos.effects import NO_SHEET_FILLS, Duplicates, Effects, SheetFills
from lab.chaos.ledger_rows import LedgerEntry, VendorKey
from lab.chaos.plan import Planned
from lab.chaos.publishing import Sent
from lab.chaos.world import World

LOST = "lost"


@dataclass(frozen=True, kw_only=True)
class End:
    status: str  # applied, rejected, dead, lost
    reason: str | None = None
    why: str | None = None  # for lost: what is missing

    @property
    def label(self) -> str:
        return self.status if self.reason is None else f"{self.status}:{self.reason}"


@dataclass(frozen=True, kw_only=True)
class Ended:
    planned: Planned
    end: End
    in_dlq: bool  # a dead letter with a reason (the ledger's, when it has one)
    with_row: bool  # Open Dental holds the effect the intent names


def _end(entry: LedgerEntry | None, letters: Sequence[Letter]) -> End:
    if entry is not None and entry.status in TERMINAL_STATUSES:
        return End(status=entry.status, reason=entry.reason)
    by_broker = [letter for letter in letters if letter.source is Source.BROKER]
    if by_broker:
        return End(status="dead", reason=by_broker[0].reason)
    if entry is None and letters:
        return End(status="rejected", reason=letters[0].reason)
    state = "no ledger entry" if entry is None else f"ledger status {entry.status}"
    return End(status=LOST, why=f"{state}, no dead letter")


def _in_dlq(end: End, entry: LedgerEntry | None, letters: Sequence[Letter]) -> bool:
    reasons = {letter.reason for letter in letters if letter.reason}
    if entry is not None and entry.reason and entry.status in TERMINAL_STATUSES:
        return entry.reason in reasons
    return bool(reasons)


def settle(
    planned: Planned, entry: LedgerEntry | None, letters: Sequence[Letter], effects: Effects,
    database: str,
) -> Ended:
    end = _end(entry, letters)
    with_row = planned.effect is not None and effects.present(database, planned.effect)
    if end.status == "applied" and planned.effect is not None and not with_row:
        end = End(status=LOST, reason=end.reason, why=f"applied, no {planned.effect.table} row")
    return Ended(planned=planned, end=end, in_dlq=_in_dlq(end, entry, letters), with_row=with_row)


@dataclass(frozen=True, kw_only=True)
class Accounting:
    ended: tuple[Ended, ...]  # one per published intent
    resent: int  # confirmed exact re-sends of a published intent
    unconfirmed: tuple[Planned, ...]  # never confirmed by the broker: not published
    duplicates: Duplicates
    letters_scanned: int
    letters_complete: bool
    letters_from_broker: int = 0  # dead-lettered by the broker itself (see ``DeadLetters``)
    sheets: SheetFills = NO_SHEET_FILLS  # sheet.fill's fields, missing or set twice

    def count(self, status: str) -> int:
        return sum(1 for e in self.ended if e.end.status == status)

    def reasons(self, status: str) -> Counter[str]:
        return Counter(e.end.reason or "none" for e in self.ended if e.end.status == status)

    @property
    def not_in_dlq(self) -> tuple[Ended, ...]:
        refused = ("rejected", "dead")
        return tuple(e for e in self.ended if e.end.status in refused and not e.in_dlq)

    @property
    def unapplied_with_row(self) -> tuple[Ended, ...]:
        return tuple(e for e in self.ended
                     if e.end.status in ("rejected", "dead") and e.with_row)

    @property
    def unexpected(self) -> Counter[str]:
        """Intents that did not end as planned, by "expected -> got"."""
        return Counter(f"{e.planned.expect} -> {e.end.label}" for e in self.ended
                       if e.end.label != e.planned.expect)


def _published(sent: Sequence[Sent]) -> tuple[dict[VendorKey, Planned], int, list[Planned]]:
    published: dict[VendorKey, Planned] = {}
    resent = 0
    for one in sent:
        key = (one.planned.vendor, one.planned.key)
        if one.confirmed and key in published:
            resent += 1
        elif one.confirmed:
            published[key] = one.planned
    unconfirmed = {(s.planned.vendor, s.planned.key): s.planned for s in sent
                   if not s.confirmed and (s.planned.vendor, s.planned.key) not in published}
    return published, resent, list(unconfirmed.values())


def account(
    world: World, sent: Sequence[Sent], ledger: Mapping[VendorKey, LedgerEntry],
    letters: DeadLetters, effects: Effects, duplicates: Duplicates,
    sheets: SheetFills = NO_SHEET_FILLS,
) -> Accounting:
    published, resent, unconfirmed = _published(sent)
    ended = tuple(
        settle(planned, ledger.get(key), letters.by_intent.get(key, []), effects,
               world.database_of(planned.office))
        for key, planned in published.items()
    )
    return Accounting(
        ended=ended, resent=resent, unconfirmed=tuple(unconfirmed), duplicates=duplicates,
        letters_scanned=letters.scanned, letters_complete=letters.complete,
        letters_from_broker=letters.from_broker, sheets=sheets,
    )
