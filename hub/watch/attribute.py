"""Which door a change came through, from Open Dental's securitylog and the hub's ledger.

A change is one row's new DateTStamp. The securitylog rows about that row (``FKey``, the
table's PermTypes) logged within ``log_window`` of the stamp, on the office server's clock, and
not used for an earlier change of the row, are its candidate explanations; the latest of them
explains it:

- LogSource API (23): the hub's own when the ledger pairs it with an API call of an intent (the
  pairing rule of ``hub.trace.attribution``, reused as is: a write call that got no reply takes
  part, on the row its intent recorded), or with an attempt of an intent recorded for the row
  that left no call in the ledger (its writer killed while the call was out), or when its text
  names the hub's DevName at this office (the intent is then not yet on record, asked again by
  later passes: hub/watch/scanner.py); else
  ``other_api``, naming the DevName its text gives;
- any other LogSource: a person (or Open Dental's own program) at the office,
  ``open_dental_user`` with the log's UserNum;
- none: ``unexplained``; but a change of only columns Open Dental writes along with another
  table's row (a new patient's DateFirstVisit, set by booking the appointment: ``SIDE_EFFECTS``)
  is explained the same way by that row's log naming the patient (``PatNum``).

A change whose hashed columns moved while ``SecurityHash`` stayed is ``unexplained`` whatever
the log says: Open Dental and its API rehash what they change, so only a direct write leaves the
hash stale, and a log row near it would be a coincidence or a cover.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hub.ledger import IntentStory
from hub.opendental.reconcile_queries import (
    CLOCK_SKEW,
    LOG_SOURCE_API,
    PermType,
    SecurityLogEntry,
)
from hub.trace.attribution import LOG_RESOLUTION, attribute
from hub.trace.models import Cause, OdRow, OfficeLog, TimedEntry
from hub.watch.digests import changed_columns, stale_hash
from hub.watch.model import Attribution, Door, SeenRow, Source
from hub.watch.store import RowState
from hub.watch.tables import LogRow, WatchedTable, side_effect_only

_DEV_NAME = re.compile(r" by (?P<name>.+?) through API\.?\s*$")


def dev_name_of(log_text: str) -> str | None:
    """The DevName in "… by {DevName} through API." (opendental-api.md §5.2)."""
    found = _DEV_NAME.search(log_text)
    return None if found is None else found.group("name")


def _timed(log: LogRow) -> TimedEntry:
    at = None if log.logged_at_epoch is None else datetime.fromtimestamp(log.logged_at_epoch, UTC)
    entry = SecurityLogEntry(
        securitylog_num=log.securitylog_num, log_datetime=log.log_datetime,
        perm_type=PermType(log.perm_type).name, log_text=log.log_text, user_num=log.user_num,
    )
    return TimedEntry(entry=entry, logged_at=at)


def hub_causes(
    row: OdRow, logs: Sequence[LogRow], stories: Sequence[IntentStory]
) -> dict[int, Cause]:
    """The row's API log rows that the ledger pairs with an intent's call, by SecurityLogNum."""
    api = [_timed(log) for log in logs if log.log_source == LOG_SOURCE_API]
    audit = attribute(row, OfficeLog(entries=tuple(reversed(api))), stories)
    return {
        line.timed.entry.securitylog_num: line.cause for line in audit.lines
        if line.cause is not None
    }


def lost_attempt_cause(
    row: OdRow, log: LogRow, stories: Sequence[IntentStory]
) -> tuple[str, int] | None:
    """(vendor, intent id) of the intent recorded for the row that has an attempt with no call in
    the ledger, when Open Dental logged this row between the intent's receipt and its next
    recorded call: a writer killed while its call was out (the call's record never written),
    whose write landed all the same. Only for a log row no recorded call pairs with."""
    if log.logged_at_epoch is None:
        return None
    at = datetime.fromtimestamp(log.logged_at_epoch, UTC)
    for story in stories:
        intent = story.intent
        if intent.office_id != row.office_id or intent.od_primary_key != row.primary_key:
            continue
        recorded = {call.attempt for call in story.api_calls}
        for attempt in range(1, intent.attempts + 1):
            if attempt in recorded:
                continue
            later = [call.started_at for call in story.api_calls if call.attempt > attempt]
            end = min(later, default=intent.finished_at or intent.updated_at)
            if intent.received_at - CLOCK_SKEW - LOG_RESOLUTION <= at <= end + CLOCK_SKEW:
                return intent.vendor, intent.id
    return None


def explaining(
    logs: Sequence[LogRow], stamp: datetime, window: timedelta, after: int | None = None
) -> LogRow | None:
    """The latest log row (by SecurityLogNum) logged within the window of the stamp and after
    ``after``, the one that explained the row's previous change: a log row explains one change
    only, so a direct write a second after a logged one is not taken for it. The latest, not the
    closest in time: the row is as its last write left it, and the stamp (the database's clock)
    and the log's time (the writer's) may fall in different seconds."""
    near = [
        log for log in logs
        if abs(log.log_datetime - stamp) <= window and log.securitylog_num > (after or 0)
    ]
    return max(near, key=lambda log: log.securitylog_num, default=None)


def attribute_change(
    *, table: WatchedTable, seen: SeenRow, before: RowState | None, logs: Sequence[LogRow],
    stories: Sequence[IntentStory], own_dev_name: str | None, window: timedelta,
    source: Source = Source.SCAN, side_stories: Mapping[int, Sequence[IntentStory]] | None = None,
) -> Attribution:
    """The door of the change that gave ``seen`` its stamp; ``before`` is the row as the watch
    last saw it (None: never). ``stories`` are the row's intents; ``side_stories`` those of the
    rows its side-effect logs are about, by key."""
    side_stories = side_stories or {}
    columns = changed_columns(None if before is None else before.digests, seen.digests)
    stale = before is not None and stale_hash(table, columns)
    base = Attribution(
        office_id=seen.office_id, table=seen.table, key=seen.key, door=Door.UNEXPLAINED,
        columns=columns, time=seen.changed_at, stamp=seen.stamp, row_digest=seen.row_digest,
        stale_hash=stale,
        first_seen=before is None, source=source,
    )
    after = None if before is None else before.last_log
    own = [log for log in logs if log.about is None]
    log = explaining(own, seen.stamp, window, after)
    if stale:
        return base
    if log is not None:
        return _through(base, log, own, stories, own_dev_name)
    side = side_effect_log(table, columns, before is None, logs, seen.stamp, window, after)
    if side is None or side.about is None:
        return base
    return _through(base, side, [side], side_stories.get(side.about[1], ()), own_dev_name)


def side_effect_log(
    table: WatchedTable, columns: Sequence[str], first_seen: bool, logs: Sequence[LogRow],
    stamp: datetime, window: timedelta, after: int | None,
) -> LogRow | None:
    """The other row's log that explains a change of only the columns Open Dental writes along
    with that row (``SIDE_EFFECTS``), when the watched row has no log of its own for it."""
    if not side_effect_only(table.table, None if first_seen else columns):
        return None
    return explaining([log for log in logs if log.about is not None], stamp, window, after)


def _through(
    base: Attribution, log: LogRow, logs: Sequence[LogRow], stories: Sequence[IntentStory],
    own_dev_name: str | None,
) -> Attribution:
    number = log.securitylog_num
    if log.log_source != LOG_SOURCE_API:
        return replace(base, door=Door.OPEN_DENTAL_USER, user_num=log.user_num,
                       securitylog_num=number)
    dev_name = dev_name_of(log.log_text)
    found = hub_intent(OdRow(office_id=base.office_id, table=base.table, primary_key=base.key),
                       log, logs, stories)
    if found is None and (dev_name is None or dev_name != own_dev_name):
        return replace(base, door=Door.OTHER_API, dev_name=dev_name, securitylog_num=number)
    vendor, intent_id = found if found else (None, None)
    return replace(base, door=Door.HUB, dev_name=dev_name, securitylog_num=number,
                   vendor=vendor, intent_id=intent_id, intent_pending=found is None)


def hub_intent(
    row: OdRow, log: LogRow, logs: Sequence[LogRow], stories: Sequence[IntentStory]
) -> tuple[str, int] | None:
    """(vendor, intent id) of the hub's intent that Open Dental logged as ``log`` (an API log
    row of ``row``, among the row's ``logs``; or of the other row it is about, with ``stories``
    of that row), if the ledger knows it yet."""
    if log.about is not None:
        table, key = log.about
        row, logs = replace(row, table=table, primary_key=key), [log]
    cause = hub_causes(row, logs, stories).get(log.securitylog_num)
    return (cause.vendor, cause.intent_id) if cause else lost_attempt_cause(row, log, stories)
