"""Where every step of a run ended: each confirmed publish paired with its outcome event, each
refusal with the broker's reason, and the totals the report shows.

Events of one vendor and key arrive in the order their intents were published (one office's
queue is applied in order, and a vendor's outcome queue keeps it), so the n-th event of a key
belongs to the n-th step published with that key: an exact duplicate and a reused key each get
their own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from contracts import OutcomeEvent, OutcomeStatus
from lab.demo import labels
from lab.demo.vendors import Sent


@dataclass(frozen=True, kw_only=True)
class StepResult:
    sent: Sent
    event: OutcomeEvent | None  # None: refused by the broker, or no outcome (yet)

    @property
    def label(self) -> str | None:
        """Where it ended; None when published but never answered (unaccounted)."""
        if not self.sent.confirmed:
            return labels.refused(self.sent.code or "unknown")
        return None if self.event is None else labels.of_event(self.event)

    @property
    def od_key(self) -> int | None:
        """The primary key of the row an applied create made."""
        if self.label != labels.APPLIED or self.event is None or not self.event.od:
            return None
        return self.event.od[0].primary_key


def pair(sent: Sequence[Sent], events: Sequence[OutcomeEvent]) -> list[StepResult]:
    queues: dict[tuple[str, str], list[OutcomeEvent]] = defaultdict(list)
    for event in events:
        queues[(event.vendor, event.idempotency_key)].append(event)
    results = []
    for one in sent:
        waiting = queues[(one.step.login, one.step.key)] if one.confirmed else []
        results.append(StepResult(sent=one, event=waiting.pop(0) if waiting else None))
    return results


@dataclass(frozen=True, kw_only=True)
class Tally:
    published: int  # confirmed by the broker
    refused_by_broker: tuple[Sent, ...]
    applied: int
    duplicates: int
    rejected: Counter[str]  # by reason
    dead: Counter[str]  # by reason
    by_vendor: dict[str, Counter[str]] = field(default_factory=dict)  # publishing login × label
    mismatches: tuple[StepResult, ...] = ()  # steps that did not end as the script expects

    @property
    def terminal(self) -> int:
        return (
            self.applied + self.duplicates + sum(self.rejected.values()) + sum(self.dead.values())
        )

    @property
    def unaccounted(self) -> int:
        return self.published - self.terminal


def tally(results: Sequence[StepResult], events: Sequence[OutcomeEvent]) -> Tally:
    """Counts by outcome event (every event of the run counts, paired or not) and by step."""
    by_vendor: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        by_vendor[result.sent.step.login][result.label or "unaccounted"] += 1
    rejected: Counter[str] = Counter()
    dead: Counter[str] = Counter()
    for event in events:
        reason = event.reason.value if event.reason is not None else "none"
        if event.duplicate:
            continue
        if event.status is OutcomeStatus.REJECTED:
            rejected[reason] += 1
        elif event.status is OutcomeStatus.DEAD:
            dead[reason] += 1
    return Tally(
        published=sum(1 for r in results if r.sent.confirmed),
        refused_by_broker=tuple(r.sent for r in results if not r.sent.confirmed),
        applied=sum(1 for e in events if e.status is OutcomeStatus.APPLIED and not e.duplicate),
        duplicates=sum(1 for e in events if e.duplicate),
        rejected=rejected,
        dead=dead,
        by_vendor=dict(by_vendor),
        mismatches=tuple(r for r in results if r.label != r.sent.step.expect),
    )
