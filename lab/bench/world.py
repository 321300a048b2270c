"""The names of one scenario's world, derived from its run id alone: offices, customer keys,
databases, the vendors, the reference queues, and each intent's idempotency key and patient.

Every customer key is its own office on the simulator, and all of them share one office
database: the simulator keeps one connection pool per database, so a thousand offices cost it
one pool, as they would cost the real Open Dental one server each.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hub.settings import ApiMode

_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "bdfghjklmnprstvz")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
PASSWORD_BYTES = 24
# A vendor's topic permission on hub.intents alternates its offices' ids in one regex that the
# broker matches on every publish; the offices are shared out between vendors of this many
# offices each, so no regex runs to thousands of characters (as several vendors share a DSO).
OFFICES_PER_VENDOR = 50


@dataclass(frozen=True, kw_only=True)
class BenchWorld:
    run_id: str  # 8 lowercase hex digits
    offices: int
    mode: ApiMode
    vendor_password: str
    contracts: tuple[str, ...] = ("patient.create",)  # what every vendor agreed with its offices

    @classmethod
    def new(
        cls, *, offices: int, mode: ApiMode, contracts: tuple[str, ...] = ("patient.create",)
    ) -> BenchWorld:
        return cls(
            run_id=secrets.token_hex(4), offices=offices, mode=mode,
            vendor_password=secrets.token_urlsafe(PASSWORD_BYTES), contracts=contracts,
        )

    def office_ids(self) -> list[str]:
        return [self.office_id(n) for n in range(1, self.offices + 1)]

    def office_id(self, number: int) -> str:
        return f"bench-{self.run_id}-{number:04d}"

    def customer_key(self, number: int) -> str:
        return f"Bench{self.run_id}K{number:04d}"

    @staticmethod
    def customer_key_variable(number: int) -> str:
        """The environment variable the registry names the office's customer key by."""
        return f"HUB_BENCH_KEY_{number:04d}"

    def vendor_of(self, office_number: int) -> str:
        return f"bench-{self.run_id}-v{(office_number - 1) // OFFICES_PER_VENDOR + 1:03d}"

    def vendors(self) -> list[str]:
        """Each vendor once, in office order."""
        return list(dict.fromkeys(self.vendor_of(n) for n in range(1, self.offices + 1)))

    def offices_of(self, vendor: str) -> list[str]:
        numbers = range(1, self.offices + 1)
        return [self.office_id(n) for n in numbers if self.vendor_of(n) == vendor]

    @property
    def ledger_database(self) -> str:
        return f"hubbench_{self.run_id}_ledger"

    @property
    def office_database(self) -> str:
        return f"hubbench_{self.run_id}_od"

    def reference_queue(self, number: int) -> str:
        return f"bench.reference.{self.run_id}.{number:04d}"

    def reference_queues(self) -> list[str]:
        return [self.reference_queue(n) for n in range(1, self.offices + 1)]

    def intent_key(self, tag: str, office_number: int, sequence: int) -> str:
        return f"bench-{self.run_id}-{tag}-{office_number:04d}-{sequence}"

    @property
    def surname(self) -> str:
        """Every patient of the run has it, so Open Dental's duplicate rule never matches
        another run's patient."""
        return "Bench" + self.run_id.translate(_HEX_TO_LETTERS)


def first_name(index: int) -> str:
    """A distinct first name per index (letters only), so no two patients of a run collide."""
    letters = []
    rest = index
    while True:
        rest, digit = divmod(rest, len(_LETTERS))
        letters.append(_LETTERS[digit])
        if rest == 0:
            return "".join(letters).title()
