"""How ``hub dlq`` prints dead letters: a table, JSON, or one message in full.

Bodies may hold patient data: only ``letter_text(..., with_body=True)`` prints one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from aio_pika.abc import FieldValue

from hub.dlq.model import DeadLetter, ScanEnd, ScanSummary
from hub.dlq.replay import ReplayResult

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]

COLUMNS = ("time", "vendor", "office", "contract", "reason", "key", "attempts")


def letters_table(letters: Sequence[DeadLetter]) -> str:
    rows = [COLUMNS, *(_row(letter) for letter in letters)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def letters_json(letters: Sequence[DeadLetter], summary: ScanSummary) -> str:
    document = {
        "messages": [letter_summary(letter) for letter in letters],
        "scanned": summary.scanned,
        "unlisted": summary.unlisted,
        "end": summary.end.value,
    }
    return json.dumps(document, indent=2)


def letter_summary(letter: DeadLetter) -> dict[str, JsonValue]:
    """A dead letter's identifying fields; never its body or its headers."""
    return {
        "position": letter.position,
        "source": letter.source.value,
        "time": _time(letter.dead_lettered_at) or None,
        "vendor": letter.vendor,
        "office": letter.office,
        "contract": letter.contract,
        "reason": letter.reason,
        "idempotency_key": letter.idempotency_key,
        "message_id": letter.message_id,
        "attempts": letter.attempts,
        "routing_key": letter.routing_key,
    }


def letter_text(letter: DeadLetter, *, with_body: bool) -> str:
    lines = [
        f"dead letter at position {letter.position} (dead-lettered by the {letter.source.value})",
        f"routing key: {letter.routing_key}",
        "properties:",
        *_fields(letter.properties),
        "headers:",
        *_fields(letter.headers),
    ]
    if with_body:
        lines += ["body:", letter.body.decode("utf-8", errors="replace")]
    else:
        lines.append(f"body: {len(letter.body)} bytes, not shown (may hold patient data; --body)")
    return "\n".join(lines)


def scan_notes(summary: ScanSummary) -> list[str]:
    """Warnings: matches left out by the limit, or a scan that did not reach the queue's end."""
    notes = []
    if summary.unlisted:
        notes.append(f"{summary.unlisted} more match(es) past the limit were left alone (--limit)")
    if summary.end is not ScanEnd.END:
        bound = "count" if summary.end is ScanEnd.MAX_MESSAGES else "time"
        notes.append(
            f"read {summary.scanned} message(s) and stopped at the scan's {bound} bound: more may "
            "match, and the messages read now wait behind the rest of the queue (--scan-max)"
        )
    return notes


def _row(letter: DeadLetter) -> tuple[str, ...]:
    return (
        _time(letter.dead_lettered_at) or "-",
        letter.vendor or "-",
        letter.office or "-",
        letter.contract or "-",
        letter.reason or "-",
        letter.idempotency_key or "-",
        "-" if letter.attempts is None else str(letter.attempts),
    )


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds")


def _fields(table: Mapping[str, FieldValue]) -> list[str]:
    return [f"  {name}: {_render(table[name])}" for name in sorted(table)]


def _render(value: FieldValue) -> str:
    plain = as_json(value)
    return plain if isinstance(plain, str) else json.dumps(plain)


def as_json(value: FieldValue) -> JsonValue:
    """An AMQP field value as JSON: times in ISO 8601, bytes as UTF-8 text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {name: as_json(item) for name, item in value.items()}
    return value


def replay_lines(results: Sequence[ReplayResult]) -> str:
    """One line per matched dead letter: what replay did (or would do) with it."""
    return "\n".join(
        f"{result.status.value:<13}{result.letter.vendor or '-'}  "
        f"{result.letter.idempotency_key or '-'}  -> {result.routing_key or '-'}"
        for result in results
    )
