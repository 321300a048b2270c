"""How ``hub dlq`` prints dead letters (a table, JSON, or one message in full) and the record
of those that expired (``hub dlq expired``).

Bodies may hold patient data: only ``letter_text(..., with_body=True)`` prints one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from aio_pika.abc import FieldValue

from hub.dlq.expiries import ExpiryRow
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


EXPIRY_COLUMNS = ("expired", "vendor", "office", "contract", "reason", "key", "intent")


def expiries_table(rows: Sequence[ExpiryRow]) -> str:
    """One line per recorded expiry, oldest first: ids only, the body is gone."""
    lines = [EXPIRY_COLUMNS, *(_expiry_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(EXPIRY_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def expiries_json(rows: Sequence[ExpiryRow]) -> str:
    return json.dumps({"expiries": [expiry_json(row) for row in rows], "count": len(rows)},
                      indent=2)


def expiry_json(row: ExpiryRow) -> dict[str, JsonValue]:
    expiry = row.expiry
    return {
        "id": row.id,
        "queue": expiry.queue,
        "source": expiry.source.value,
        "intent_id": expiry.intent_id,
        "vendor": expiry.vendor,
        "idempotency_key": expiry.idempotency_key,
        "message_id": expiry.message_id,
        "office": expiry.office,
        "contract": expiry.contract,
        "reason": expiry.reason,
        "dead_lettered_at": _time(expiry.dead_lettered_at) or None,
        "expired_at": _time(expiry.expired_at) or None,
        "recorded_at": _time(row.recorded_at),
    }


def _expiry_cells(row: ExpiryRow) -> tuple[str, ...]:
    expiry = row.expiry
    return (
        _time(expiry.expired_at or row.recorded_at), expiry.vendor or "-", expiry.office or "-",
        expiry.contract or "-", expiry.reason or "-",
        expiry.idempotency_key or expiry.message_id or "-",
        "-" if expiry.intent_id is None else str(expiry.intent_id),
    )
