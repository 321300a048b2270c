"""``hub status`` as a table for a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.control.model import Pause
from hub.outbox import Waiting
from hub.status.model import HubStatus, LaneLine, WriterLine

HEADERS = ("OFFICE", "STATE", "QUEUE", "IN FLIGHT", "PARKED", "LAST ERROR", "PAUSED BY / WHY",
           "WRITER", "SEEN")
NONE = "-"
UNKNOWN = "?"


def status_text(status: HubStatus) -> str:
    rows = [HEADERS, *(_row(line) for line in status.lanes)]
    lines = _table(rows) if status.lanes else ["no office lanes, queues or pauses found"]
    lines += ["", *_writers(status.writers)]
    dead = UNKNOWN if status.dead_letters is None else str(status.dead_letters)
    lines += ["", f"dead letters (hub.dead): {dead}", *_waiting(status.outcomes_waiting)]
    vendors = [f"  {p.name}  {_pause(p)}" for p in status.paused_vendors]
    lines += ["paused vendors:" + ("" if vendors else f" {NONE}"), *vendors]
    lines += [f"could not read {problem}" for problem in status.problems]
    return "\n".join(lines)


def _row(line: LaneLine) -> tuple[str, ...]:
    error = NONE
    if line.last_error is not None:
        error = line.last_error + _at(line.last_error_at)
    return (
        line.office,
        line.state,
        UNKNOWN if line.queue_depth is None else str(line.queue_depth),
        NONE if line.in_flight is None else str(line.in_flight),
        _parked(line),
        error,
        NONE if line.pause is None else _pause(line.pause),
        _writer(line),
        NONE if line.seen_s_ago is None else f"{line.seen_s_ago:.0f}s ago",
    )


def _writer(line: LaneLine) -> str:
    """The writer; one standing by on the office (another serves it) says so."""
    if line.writer_id is None:
        return NONE
    return line.writer_id if line.serving else f"{line.writer_id} (standby)"


def _writers(writers: Sequence[WriterLine]) -> list[str]:
    if not writers:
        return [f"writers: {NONE}"]
    rows = [("WRITER", "SERVES", "BEAT"), *(
        (each.writer_id, str(each.serving),
         f"{_age(each.beat_s_ago)} ago" + ("" if each.live else " (gone)"))
        for each in writers
    )]
    return ["writers:", *("  " + row for row in _table(rows))]


def _parked(line: LaneLine) -> str:
    count = UNKNOWN if line.parked is None else str(line.parked)
    hold = line.hold
    return count if hold is None else f"{count} (held: {hold.cause})"


def _waiting(waiting: list[Waiting] | None) -> list[str]:
    """Outcome events the broker would not take, per vendor: the oldest's age, and why."""
    title = "outcomes waiting for their vendor (outbox):"
    if waiting is None:
        return [f"{title} {UNKNOWN}"]
    rows = [
        f"  {each.vendor}  {each.count}, oldest {_age(each.oldest_s)} ago"
        + (f", tried {each.attempts}x, last: {each.last_error}" if each.last_error else "")
        for each in waiting
    ]
    return [title + ("" if rows else f" {NONE}"), *rows]


def _age(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _pause(pause: Pause) -> str:
    why = f' "{pause.reason}"' if pause.reason else ""
    return f"{pause.paused_by} at {_time(pause.paused_at)}{why}"


def _at(moment: datetime | None) -> str:
    return "" if moment is None else f" ({_time(moment)})"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]
