"""Which hub intent made each securitylog row: API calls paired with Open Dental's audit.

Open Dental writes one securitylog row, in the write's own transaction, for each API write that
changes a row (a PUT that changes nothing writes none). That row names the developer key, never
the vendor; the ledger knows which vendor's intent made which call, and when. So a securitylog
row is paired with a write call recorded for the same Open Dental row, successful or with no
reply (a commit whose reply was lost may have landed: its row is the one the intent recorded,
found again by reconciliation; it and the retry after it each hold their place in the order),

- of the same kind: a ``...Create`` permission with a POST, every other one with a PUT; but
  the permissions Open Dental logs for an add and an edit alike (a patient's allergy,
  medication and problem lists, and patient fields) pair with either;
- whose window holds the log's moment: from the call's start, less the clock skew between the
  hub and the office and the log's truncation to the second, to the call's end plus the skew;
- the earliest such call not yet paired, taking the log rows oldest first, so that two quick
  edits of one row pair in the order they were made.

A securitylog row with no such call was made outside the hub (another program, a person at the
office), or by an intent the ledger has purged after its retention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.ledger import ApiCallRow, IntentStory
from hub.opendental.reconcile_queries import CLOCK_SKEW
from hub.trace.models import AuditLine, Cause, OdRow, OfficeLog, RowAudit, TimedEntry

LOG_RESOLUTION = timedelta(seconds=1)  # LogDateTime keeps whole seconds
CREATE_METHOD = "POST"
CHANGE_METHOD = "PUT"
# No ``...Create`` of their own: Open Dental logs adding to these as it logs editing them.
EITHER_KIND = frozenset({
    "PatAllergyListEdit", "PatMedicationListEdit", "PatProblemListEdit", "PatientFieldEdit",
})


@dataclass(frozen=True, kw_only=True)
class _Write:
    cause: Cause
    creates: bool
    earliest: datetime
    latest: datetime

    def fits(self, timed: TimedEntry) -> bool:
        perm = timed.entry.perm_type
        same_kind = perm in EITHER_KIND or perm.endswith("Create") == self.creates
        at = timed.logged_at
        return at is not None and same_kind and self.earliest <= at <= self.latest


def _is_write_to(story: IntentStory, call: ApiCallRow, row: OdRow) -> bool:
    if call.method not in (CREATE_METHOD, CHANGE_METHOD):
        return False
    if call.status is None:  # no reply: it may have committed, on the row the intent recorded
        intent = story.intent
        return intent.od_table == row.table.value and intent.od_primary_key == row.primary_key
    return 200 <= call.status < 300 and call.od_primary_key == row.primary_key


def _write(story: IntentStory, call: ApiCallRow) -> _Write:
    intent = story.intent
    cause = Cause(
        intent_id=intent.id,
        vendor=intent.vendor,
        idempotency_key=intent.idempotency_key,
        message_id=intent.message_id,
        api_call_id=call.id,
    )
    return _Write(
        cause=cause,
        creates=call.method == CREATE_METHOD,
        earliest=call.started_at - CLOCK_SKEW - LOG_RESOLUTION,
        latest=call.started_at + timedelta(milliseconds=call.latency_ms) + CLOCK_SKEW,
    )


def _writes(row: OdRow, stories: Sequence[IntentStory]) -> list[_Write]:
    writes = [
        _write(story, call)
        for story in stories
        if story.intent.office_id == row.office_id
        for call in story.api_calls
        if _is_write_to(story, call, row)
    ]
    return sorted(writes, key=lambda write: write.earliest)


def attribute(row: OdRow, log: OfficeLog, stories: Sequence[IntentStory]) -> RowAudit:
    """Each of the row's securitylog entries (kept newest first) with the intent that made it."""
    unpaired = _writes(row, stories)
    causes: dict[int, Cause] = {}
    for timed in sorted(log.entries, key=lambda timed: timed.entry.securitylog_num):
        write = next((write for write in unpaired if write.fits(timed)), None)
        if write is not None:
            unpaired.remove(write)
            causes[timed.entry.securitylog_num] = write.cause
    lines = tuple(
        AuditLine(timed=timed, cause=causes.get(timed.entry.securitylog_num))
        for timed in log.entries
    )
    return RowAudit(lines=lines, error=log.error)
