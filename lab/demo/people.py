"""Who a run is about, derived from its id alone: the run's keys, patients and booking times.

The patients share one surname made of the run id, so a run never meets another run's patients
(Open Dental's duplicate-patient rule never trips) and every row a run made is found by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Tony",
    "Margaret", "Ken", "Radia", "Niklaus", "Adele", "John", "Hedy", "Dennis",
)
MAX_PATIENTS = 8  # the rest of FIRST_NAMES names the script's refused creates
_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "bdfghjklmnprstvz")
BOOKING_LEAD = timedelta(days=7)
FIRST_SLOT = time(9, 0)
OPERATORIES = 3  # the simulator seeds three


@dataclass(frozen=True, kw_only=True)
class Run:
    id: str  # 8 lowercase hex digits
    today: date

    @property
    def prefix(self) -> str:
        """Every idempotency key, patient and vendor reference of the run starts with it."""
        return f"demo-{self.id}-"

    def key(self, *parts: object) -> str:
        return self.prefix + "-".join(str(part) for part in parts)

    @property
    def surname(self) -> str:
        return self.id.translate(_HEX_TO_LETTERS).title()


@dataclass(frozen=True, kw_only=True)
class Person:
    """A patient's natural key in Open Dental: LName, FName, Birthdate (yyyy-MM-dd)."""

    last: str
    first: str
    birthdate: str


def person(run: Run, index: int) -> Person:
    """The run's ``index``-th person (from 1); distinct first names, a birthdate per run."""
    seed = int(run.id, 16)
    born = date(
        1950 + (seed + 7 * index) % 50,
        (seed // 50 + index) % 12 + 1,
        (seed // 600 + 3 * index) % 28 + 1,
    )
    first = FIRST_NAMES[(index - 1) % len(FIRST_NAMES)]
    return Person(last=run.surname, first=first, birthdate=born.isoformat())


def booking(run: Run, index: int) -> tuple[str, int]:
    """The ``index``-th appointment's AptDateTime (office local time) and operatory."""
    day = datetime.combine(run.today + BOOKING_LEAD, FIRST_SLOT)
    start = day + timedelta(hours=index - 1)
    return start.strftime("%Y-%m-%d %H:%M:%S"), 1 + (index - 1) % OPERATORIES
