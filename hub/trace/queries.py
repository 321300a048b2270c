"""The trace's two questions, over the ledger's ``LedgerTrace`` port and an ``OfficeAudit``."""

from __future__ import annotations

from hub.ledger import IntentStory, LedgerTrace
from hub.opendental.reconcile_queries import OdTable
from hub.trace.attribution import attribute
from hub.trace.models import IntentTrace, OdRow, RowTrace
from hub.trace.office_log import OfficeAudit
from hub.trace.targets import IntentTarget


def _table(name: str) -> OdTable | None:
    try:
        return OdTable(name)
    except ValueError:
        return None


def row_of(story: IntentStory) -> OdRow | None:
    """The row the intent produced or changed: the one its finish recorded or, for an intent
    that stopped before its finish (in doubt, dead), the last row an API call of it reached."""
    intent = story.intent
    table = _table(intent.od_table or intent.contract.partition(".")[0])
    key = intent.od_primary_key
    if key is None:
        reached = [
            call.od_primary_key for call in story.api_calls if call.od_primary_key is not None
        ]
        key = reached[-1] if reached else None
    if table is None or key is None:
        return None
    return OdRow(office_id=intent.office_id, table=table, primary_key=key)


async def stories_of(ledger: LedgerTrace, row: OdRow) -> list[IntentStory]:
    """Every intent that created or changed the row, oldest first, with its API calls."""
    intents = await ledger.intents_for_row(row.office_id, row.table.value, row.primary_key)
    stories = [await ledger.story(intent.vendor, intent.idempotency_key) for intent in intents]
    return [story for story in stories if story is not None]  # None: purged in between


async def trace_intent(
    ledger: LedgerTrace, audit: OfficeAudit, target: IntentTarget
) -> IntentTrace | None:
    """The intent's story, its row, and that row's audit; None if the ledger has no such intent."""
    story = await ledger.story(target.vendor, target.idempotency_key)
    if story is None:
        return None
    row = row_of(story)
    if row is None:
        return IntentTrace(story=story, row=None, audit=None)
    # Every intent of the row takes part, so each audit line names its own cause, not just ours.
    stories = await stories_of(ledger, row)
    if all(other.intent.id != story.intent.id for other in stories):
        stories.append(story)
    return IntentTrace(story=story, row=row, audit=attribute(row, await audit.read(row), stories))


async def trace_row(ledger: LedgerTrace, audit: OfficeAudit, row: OdRow) -> RowTrace:
    """Every intent that created or changed the row, and its audit with each line's cause."""
    stories = await stories_of(ledger, row)
    return RowTrace(
        row=row, stories=tuple(stories), audit=attribute(row, await audit.read(row), stories)
    )
