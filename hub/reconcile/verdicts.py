"""What reconciliation concludes about an attempt in doubt, and the attempt it is asked about.

Every value here holds ids and times only, never patient data: a verdict may go into logs, the
ledger or a dead letter's headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias

from hub.ledger import InDoubt
from hub.opendental.reconcile_queries import Candidate, OdTable

# How far before the attempt's start (the ledger database's clock) a row may be stamped (the
# office database's clock), on top of the lookups' own two seconds: the two machines' clocks may
# disagree. Too little and a row the attempt made is missed, then created twice; too much only
# widens the look for twins (more "ambiguous", or rows the ledger credits elsewhere).
DEFAULT_SKEW_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True, kw_only=True)
class AttemptWindow:
    """The attempt in doubt: whose it is, and from when it could have written."""

    intent_id: int
    started_at: datetime  # timezone-aware, as the ledger gives it (UTC)
    skew_margin: timedelta = DEFAULT_SKEW_MARGIN

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None or self.started_at.utcoffset() is None:
            raise ValueError("started_at must be timezone-aware")
        if self.skew_margin < timedelta(0):
            raise ValueError("skew_margin must not be negative")

    @classmethod
    def of(
        cls, in_doubt: InDoubt, *, skew_margin: timedelta = DEFAULT_SKEW_MARGIN
    ) -> AttemptWindow:
        """The window of the attempt a ledger ``claim`` reported in doubt."""
        return cls(
            intent_id=in_doubt.intent_id, started_at=in_doubt.attempt_started_at,
            skew_margin=skew_margin,
        )

    @property
    def earliest(self) -> datetime:
        """The earliest moment, by the ledger's clock, the attempt's row may carry."""
        return self.started_at - self.skew_margin


@dataclass(frozen=True, kw_only=True)
class Found:
    """The create landed: record the intent as applied with this row; send nothing."""

    table: OdTable
    primary_key: int


@dataclass(frozen=True, kw_only=True)
class NotFound:
    """Nothing the attempt could have made exists: sending the create again is safe."""


@dataclass(frozen=True, kw_only=True)
class Ambiguous:
    """The database cannot tell which row, if any, is the attempt's: a person decides.

    ``candidates`` are the rows that fit (two or more); empty when the contract has no lookup
    at all, which is just as undecidable."""

    candidates: tuple[Candidate, ...]

    @property
    def primary_keys(self) -> tuple[int, ...]:
        return tuple(candidate.primary_key for candidate in self.candidates)


@dataclass(frozen=True, kw_only=True)
class SafeToResend:
    """An update: sending the same sparse PUT again has the same effect as sending it once."""


ReconcileVerdict: TypeAlias = Found | NotFound | Ambiguous | SafeToResend
