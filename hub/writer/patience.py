"""How long a lane's ledger units may wait to be committed with other lanes' (group_commit.py).

After each reply a throttled customer key waits a whole slot, a second or more, before its next
request may start (pacer.py). The lane's work in that time holds two ledger units, the finish
and the next intent's claim; a little patience on each costs the key nothing and lets the units
of many offices share one round trip and one durable commit, in the writer and in MariaDB. A lane
whose key is not throttled sends its units at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.opendental.office import OfficeApi
from hub.opendental.pacer import throttled

# Both units of a turn together wait at most 8% of a one-second slot.
THROTTLED_PATIENCE_S = 0.04


@dataclass(frozen=True)
class LedgerPatience:
    throttled_offices: frozenset[str]

    @classmethod
    def of_offices(cls, offices: Iterable[OfficeApi]) -> LedgerPatience:
        return cls(frozenset(office.office_id for office in offices if throttled(office)))

    def seconds(self, office: str | None) -> float:
        return THROTTLED_PATIENCE_S if office in self.throttled_offices else 0.0
