"""``hub changes`` and the changes section of ``hub trace --od``: text for people, JSON for
programs. Ids, door, vendor, UserNum, DevName and column names only; never a value.

JSON: a list of objects, oldest first::

    {"office_id", "table", "key", "door", "changed_at",   # RFC 3339 UTC
     "stamp_office_local",                                # the row's DateTStamp as stored
     "vendor", "intent_id", "user_num", "dev_name", "securitylog_num",   # null when not known
     "stale_hash": bool, "first_seen": bool, "source": "scan" | "event",
     "intent_pending": bool,       # door hub, its intent not yet on record: asked again
     "columns": [name, ...]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from hub.trace.text_view import INDENT, align
from hub.trace.timefmt import rfc3339
from hub.watch.model import Attribution, Door

NONE = "-"


def change_dict(change: Attribution) -> dict[str, object]:
    return {
        "office_id": change.office_id,
        "table": change.table.value,
        "key": change.key,
        "door": change.door.value,
        "changed_at": rfc3339(change.time),
        "stamp_office_local": change.stamp.isoformat(),
        "vendor": change.vendor,
        "intent_id": change.intent_id,
        "user_num": change.user_num,
        "dev_name": change.dev_name,
        "securitylog_num": change.securitylog_num,
        "stale_hash": change.stale_hash,
        "first_seen": change.first_seen,
        "source": change.source.value,
        "intent_pending": change.intent_pending,
        "columns": list(change.columns),
    }


def changes_json(changes: Sequence[Attribution]) -> str:
    return json.dumps([change_dict(change) for change in changes], indent=2)


def who(change: Attribution) -> str:
    """Who stands behind the change, as far as the door tells."""
    if change.door is Door.HUB:
        if change.vendor is None:
            key = f"the hub's key ({change.dev_name or 'DevName unknown'})"
            if change.intent_pending:
                return f"{key}, its intent not yet on record"
            return f"{key}, no intent on record"
        return f"{change.vendor} (intent {change.intent_id})"
    if change.door is Door.OPEN_DENTAL_USER:
        return f"user {change.user_num}"
    if change.door is Door.OTHER_API:
        return change.dev_name or "a DevName the log does not give"
    return "stale SecurityHash" if change.stale_hash else "no securitylog entry"


def _columns(change: Attribution) -> str:
    if change.first_seen:
        return f"new to the watch ({len(change.columns)} columns)"
    return ", ".join(change.columns) or NONE


def _cells(change: Attribution, with_row: bool) -> list[str]:
    row = [change.table.value, str(change.key)] if with_row else []
    return [rfc3339(change.time, timespec="seconds"), *row, change.door.value, who(change),
            _columns(change)]


def changes_text(changes: Sequence[Attribution], title: str, *, with_row: bool = True) -> str:
    if not changes:
        return f"{title}\n{INDENT}none"
    header = ["CHANGED (UTC)", *(["TABLE", "KEY"] if with_row else []), "DOOR", "WHO", "COLUMNS"]
    rows = [_cells(change, with_row) for change in changes]
    return "\n".join([title, *align([header, *rows])])
