"""The console's intent search: filters from a bookmarkable query string, one indexed SELECT.

Every filter is an equality or a range that an index of ``intents`` serves (ledger migrations 1
and 18): vendor, office, status with the time range and the sort on ``received_at``; message and
correlation ids, an idempotency key (with its vendor's unique key), an Open Dental row (office,
table, key). Contract, version and reason narrow what those find. Reads only, through the hub
database's pool; never the payload (the ledger keeps only its hash).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlencode

from hub.dlq import parse_moment
from hub.ledger import IntentRow, IntentStatus
from hub.ledger.mysql_rows import INTENT_COLUMNS, intent_row, to_db
from hub.ledger.mysql_session import MySqlSession
from hub.trace import TraceError, parse_row_target


class SortKey(StrEnum):
    RECEIVED = "received"
    UPDATED = "updated"

    @property
    def column(self) -> str:
        return {SortKey.RECEIVED: "received_at", SortKey.UPDATED: "updated_at"}[self]


class SearchError(ValueError):
    """A filter that does not parse; its message names the field, never a value's meaning."""


@dataclass(frozen=True, kw_only=True)
class IntentQuery:
    """The search form's fields, as text, exactly as the URL carries them."""

    vendor: str = ""
    office: str = ""
    contract: str = ""
    version: str = ""
    status: str = ""
    reason: str = ""
    since: str = ""
    until: str = ""
    key: str = ""
    correlation: str = ""
    message: str = ""
    row: str = ""
    sort: str = SortKey.RECEIVED.value
    order: str = "desc"
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> IntentQuery:
        texts = {
            f.name: params.get(f.name, "").strip() for f in fields(cls) if f.name != "page"
        }
        texts = {name: value for name, value in texts.items() if value}
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        return cls(**texts, page=page)

    def link(self, **changes: str | int) -> str:
        """This search's URL query, with ``changes``: for the page's own link and its pager."""
        values: dict[str, str | int] = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        defaults = {name: getattr(DEFAULT_QUERY, name) for name in values}
        kept = {
            name: value for name, value in values.items()
            if value not in ("", None) and value != defaults[name]
        }
        return urlencode(kept)


DEFAULT_QUERY = IntentQuery()


@dataclass(frozen=True, kw_only=True)
class SearchPage:
    rows: list[IntentRow]
    has_next: bool


def where_clause(query: IntentQuery, now: datetime) -> tuple[str, list[object]]:
    """The WHERE clause and its arguments; raises ``SearchError`` for a filter that does not
    parse."""
    clauses: list[str] = []
    args: list[object] = []
    for column, value in (
        ("vendor", query.vendor), ("office_id", query.office), ("contract", query.contract),
        ("reason", query.reason), ("idempotency_key", query.key),
        ("correlation_id", query.correlation), ("message_id", query.message),
    ):
        if value:
            clauses.append(f"{column} = %s")
            args.append(value)
    if query.status:
        clauses.append("status = %s")
        args.append(_status(query.status))
    if query.version:
        clauses.append("contract_version = %s")
        args.append(_number("version", query.version))
    if query.row:
        clauses.append("od_table = %s AND od_primary_key = %s")
        args += _row(query.row)
    for text, operator in ((query.since, ">="), (query.until, "<")):
        if text:
            clauses.append(f"received_at {operator} %s")
            args.append(to_db(_moment(text, now)))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


async def search(
    session: MySqlSession, query: IntentQuery, *, page_size: int, now: datetime | None = None
) -> SearchPage:
    where, args = where_clause(query, now or datetime.now(UTC))
    known = {key.value for key in SortKey}
    column = SortKey(query.sort).column if query.sort in known else SortKey.RECEIVED.column
    direction = "ASC" if query.order == "asc" else "DESC"
    sql = (
        f"SELECT {INTENT_COLUMNS} FROM intents {where}"
        f" ORDER BY {column} {direction}, id {direction} LIMIT %s OFFSET %s"
    )
    async with session.autocommit("searching intents") as tx:
        records = await tx.fetch_all(
            "console.search", sql, [*args, page_size + 1, (query.page - 1) * page_size]
        )
    rows = [intent_row(record) for record in records]
    return SearchPage(rows=rows[:page_size], has_next=len(rows) > page_size)


def _status(text: str) -> str:
    try:
        return IntentStatus(text).value
    except ValueError:
        known = ", ".join(status.value for status in IntentStatus)
        raise SearchError(f"status: one of {known}") from None


def _number(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SearchError(f"{name}: a whole number") from None


def _row(text: str) -> list[object]:
    try:
        target = parse_row_target(text)
    except TraceError as exc:
        raise SearchError(f"row: {exc}") from None
    return [target.table.value, target.primary_key]


def _moment(text: str, now: datetime) -> datetime:
    try:
        return parse_moment(text, now)
    except ValueError as exc:
        raise SearchError(str(exc)) from None
