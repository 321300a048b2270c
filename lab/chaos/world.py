"""The names of one run, derived from its id alone: offices, vendors, customer keys, databases,
and every patient's natural key.

Each patient the run creates has its own first name and birthdate under the run's surname, so a
duplicate shows in Open Dental's ``patient`` table as a (LName, FName, Birthdate) group of more
than one row, and every row of the run is found by its surname. No patient is given an email or a
phone, so Open Dental's duplicate-patient rule never refuses one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "bdfghjklmnprstvz")
_CONSONANTS = "bdfghjklmnprstvz"
_VOWELS = "aeiou"
FIRST_BIRTHDATE = date(1940, 1, 1)
FIRST_BOOKING_DAY = date(2031, 1, 6)
SLOTS_A_DAY = 40  # quarter hours from 08:00
OPERATORIES = 3  # the simulator seeds three (OperatoryNum 1 to 3)
PAY_DATE = "2031-01-06"


@dataclass(frozen=True, kw_only=True)
class Person:
    """A patient's natural key in Open Dental."""

    last: str
    first: str
    birthdate: str  # yyyy-MM-dd


@dataclass(frozen=True, kw_only=True)
class World:
    run_id: str  # 8 lowercase hex digits
    offices: int
    vendors: int
    databases: int

    @classmethod
    def new(cls, *, offices: int, vendors: int, databases: int) -> World:
        return cls(
            run_id=secrets.token_hex(4), offices=offices, vendors=vendors,
            databases=min(databases, offices),
        )

    @property
    def surname(self) -> str:
        return "Chaos" + self.run_id.translate(_HEX_TO_LETTERS)

    @property
    def node_name(self) -> str:
        return f"hubchaos-{self.run_id}@localhost"

    @property
    def ledger_database(self) -> str:
        return f"hubchaos_{self.run_id}_ledger"

    def office_ids(self) -> list[str]:
        return [f"office-{n:03d}" for n in range(1, self.offices + 1)]

    def vendor_names(self) -> list[str]:
        return [f"vendor-{n:02d}" for n in range(1, self.vendors + 1)]

    def office_database(self, office_number: int) -> str:
        """Offices share databases round robin (numbers from 1)."""
        return f"hubchaos_{self.run_id}_od{(office_number - 1) % self.databases + 1}"

    def database_of(self, office_id: str) -> str:
        return self.office_database(self.office_ids().index(office_id) + 1)

    def office_databases(self) -> list[str]:
        return sorted({self.office_database(n) for n in range(1, self.offices + 1)})

    def customer_key(self, office_number: int) -> str:
        return f"Chaos{self.run_id}K{office_number:03d}"

    def key(self, *parts: object) -> str:
        """An idempotency key or vendor reference of this run."""
        return "-".join(["chaos", self.run_id, *(str(part) for part in parts)])

    def person(self, index: int) -> Person:
        """The run's ``index``-th patient (from 1)."""
        born = FIRST_BIRTHDATE + timedelta(days=index)
        return Person(last=self.surname, first=first_name(index), birthdate=born.isoformat())


def first_name(index: int) -> str:
    """A pronounceable name per index: consonant-vowel pairs, little end first."""
    letters = []
    rest = index
    while True:
        rest, pair = divmod(rest, len(_CONSONANTS) * len(_VOWELS))
        consonant, vowel = divmod(pair, len(_VOWELS))
        letters.append(_CONSONANTS[consonant] + _VOWELS[vowel])
        if rest == 0:
            break
    return "".join(letters).title()


def booking(index: int) -> tuple[str, int]:
    """The ``index``-th patient's appointment: AptDateTime (office local time) and operatory."""
    day, slot = divmod(index, SLOTS_A_DAY)
    start = datetime.combine(FIRST_BOOKING_DAY + timedelta(days=day), time(8, 0))
    start += timedelta(minutes=15 * slot)
    return start.strftime("%Y-%m-%d %H:%M:%S"), 1 + index % OPERATORIES


def pay_amount(index: int) -> float:
    """A payment amount with cents, so each of a run's payments is told apart by its amount."""
    return round(10 + index / 100, 2)
