"""``hub status --json``: one object, times in ISO 8601 UTC."""

from __future__ import annotations

import json
from datetime import datetime

from hub.control.model import Pause
from hub.outbox import Waiting
from hub.status.model import HubStatus, LaneLine, WriterLine

JsonObject = dict[str, str | int | float | None]


def status_json(status: HubStatus) -> str:
    document = {
        "lanes": [_lane(line) for line in status.lanes],
        "writers": [_writer(each) for each in status.writers],
        "dead_letters": status.dead_letters,
        "outcomes_waiting": _waiting(status.outcomes_waiting),
        "paused_vendors": [_pause(pause) for pause in status.paused_vendors],
        "problems": status.problems,
    }
    return json.dumps(document, indent=2)


def _lane(line: LaneLine) -> dict[str, str | int | float | JsonObject | None]:
    return {
        "office": line.office,
        "state": line.state,
        "queue_depth": line.queue_depth,
        "in_flight": line.in_flight,
        "last_error": line.last_error,
        "last_error_at": _iso(line.last_error_at),
        "paused": None if line.pause is None else _pause(line.pause),
        "parked": line.parked,
        "held_by": None if line.hold is None else line.hold.writer_id,
        "held_for": None if line.hold is None else line.hold.cause,
        "writer_id": line.writer_id,
        "serving": line.serving,
        "seen_s_ago": None if line.seen_s_ago is None else round(line.seen_s_ago, 1),
    }


def _writer(writer: WriterLine) -> JsonObject:
    return {
        "writer_id": writer.writer_id,
        "live": writer.live,
        "beat_s_ago": round(writer.beat_s_ago, 1),
        "serves": writer.serving,
    }


def _waiting(waiting: list[Waiting] | None) -> list[JsonObject] | None:
    if waiting is None:
        return None
    return [
        {
            "vendor": each.vendor,
            "waiting": each.count,
            "oldest_s": round(each.oldest_s, 1),
            "attempts": each.attempts,
            "last_error": each.last_error,
        }
        for each in waiting
    ]


def _pause(pause: Pause) -> JsonObject:
    return {
        "name": pause.name,
        "paused_by": pause.paused_by,
        "reason": pause.reason,
        "paused_at": _iso(pause.paused_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
