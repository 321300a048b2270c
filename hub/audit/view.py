"""How ``hub audit`` prints the trail: a table, or one JSON object."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from hub.audit.model import AuditResult, AuditRow, Details, JsonValue

COLUMNS = ("id", "at", "os user", "operator", "action", "target", "result", "details")


def entries_table(rows: Sequence[AuditRow]) -> str:
    """One line per row, oldest first; details, then ``->`` and what the action reported."""
    lines = [COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def entries_json(rows: Sequence[AuditRow]) -> str:
    document = {"entries": [entry_json(row) for row in rows], "count": len(rows)}
    return json.dumps(document, indent=2)


def entry_json(row: AuditRow) -> dict[str, JsonValue]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "os_user": row.os_user,
        "operator": row.operator,
        "action": row.action,
        "target": row.target,
        "details": row.details,
        "result": row.result.value,
        "error": row.error,
        "outcome": row.outcome,
        "finished_at": None if row.finished_at is None else row.finished_at.isoformat(),
    }


def _cells(row: AuditRow) -> tuple[str, ...]:
    result = row.result.value
    if row.result is AuditResult.FAILED and row.error:
        result = f"failed: {row.error}"
    details = _pairs(row.details)
    if row.outcome:
        details = f"{details} -> {_pairs(row.outcome)}".strip()
    return (
        str(row.id), _time(row.at), row.os_user or "-", row.operator, row.action, row.target,
        result, details,
    )


def _pairs(values: Details) -> str:
    return " ".join(
        f"{name}={json.dumps(value, separators=(',', ':'))}" for name, value in values.items()
    )


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")
